"""Secrets and signatures as the Standard Webhooks specification defines them, through its
library (``standardwebhooks``): a secret is ``whsec_`` + base64 of random bytes; a signature is
``v1,`` + base64 of HMAC-SHA256 of ``"{webhook-id}.{webhook-timestamp}.{body}"`` keyed with the
decoded secret."""

import base64
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_BYTES = 32  # the specification allows 24 to 64


def new_secret() -> str:
    """A fresh secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def headers(*, webhook_id: str, body: str, keys: Iterable[str], at: datetime | None = None) -> dict[str, str]:
    """The three headers for one attempt: ``webhook-id``, ``webhook-timestamp`` (Unix seconds of
    ``at``, now by default) and ``webhook-signature``, one ``v1,`` signature per secret in
    ``keys``, space separated (the specification's way to sign with an old and a new key)."""
    at = at or datetime.now(UTC)
    signatures = [Webhook(key).sign(webhook_id, at, body) for key in keys]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }

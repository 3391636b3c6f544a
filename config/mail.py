"""The mail backend for when no SMTP server is configured: each message goes to the log."""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

logger = logging.getLogger(__name__)

WITHHELD = "(body withheld: it may hold a live reset token; DEBUG=true shows it, EMAIL_HOST sends it)"


class LogEmailBackend(BaseEmailBackend):
    """Writes each message to the log (logger ``config.mail`` at WARNING, so that it shows at
    the default LOG_LEVEL) instead of sending it. Used when ``EMAIL_HOST`` is unset.

    The body goes to the log only with ``DEBUG`` on, the explicit local-development mode, so a
    local run can follow a password reset with nothing configured; otherwise only the headers
    do. A reset mail's body holds a live token: whoever reads the logs of a deployment without
    EMAIL_HOST (compose's default) must not be able to take the account."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            mime = message.message()
            if settings.DEBUG:
                text = mime.as_string()
            else:
                shown = "".join(
                    f"{name}: {value}\n"
                    for name, value in mime.items()
                    if name != "Content-Transfer-Encoding"
                )
                text = f"{shown}\n{WITHHELD}"
            logger.warning("mail not sent (EMAIL_HOST is unset):\n%s", text)
        return len(email_messages)

"""The password-reset mail as a background task (django.tasks, run by ``manage.py worker``).

The request only enqueues ``send_reset_mail`` with the address asked about, for every address
alike (one INSERT), so neither its answer nor its time says whether the address has an account.
The task finds the account and makes the token when it runs: no token is ever stored outside
the mail. A mail the SMTP server refuses, or that cannot reach it, is tried again later.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from accounts import password_reset

logger = logging.getLogger(__name__)

MAIL_ATTEMPTS = 8  # with MAIL_RETRY_FIRST=10: the last one about 21 minutes after the first


@task
def send_reset_mail(email: str, attempt: int = 1) -> None:
    """Mail a reset token to the active account with this (normalized) email, if there is one
    with a usable password. On a failure to send, enqueue the same mail again after
    ``MAIL_RETRY_FIRST`` seconds, doubling each time, ``MAIL_ATTEMPTS`` times in all."""
    message = password_reset.message_for(email)
    if message is None:
        return
    try:
        message.send()
    except OSError as exc:  # smtplib's errors are OSErrors, as are refused connections
        if attempt >= MAIL_ATTEMPTS:
            logger.error(
                "password reset mail not sent, giving up after %d attempts: %s", attempt, type(exc).__name__
            )
            return
        delay = settings.MAIL_RETRY_FIRST * 2 ** (attempt - 1)
        logger.warning("password reset mail not sent (%s), retrying in %d s", type(exc).__name__, delay)
        send_reset_mail.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(email, attempt + 1)

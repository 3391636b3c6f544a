"""The mail backend for when no SMTP server is configured: each message goes to the log."""

import logging
from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

logger = logging.getLogger(__name__)


class LogEmailBackend(BaseEmailBackend):
    """Writes each message, headers and body, to the log (logger ``config.mail`` at WARNING, so
    that it shows at the default LOG_LEVEL) instead of sending it. Used when ``EMAIL_HOST`` is
    unset, so that a local run can follow a password reset with nothing configured."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            logger.warning("mail not sent (EMAIL_HOST is unset):\n%s", message.message().as_string())
        return len(email_messages)

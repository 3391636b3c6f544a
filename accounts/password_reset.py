"""Password reset by mail: a one-time token from Django's ``PasswordResetTokenGenerator``.

The token is an HMAC over the user's id, password hash, last login and the time it was made:
it expires after ``PASSWORD_RESET_TIMEOUT`` seconds and stops working once the password changes,
which is also what makes it single-use. Concurrent confirmations of one token queue on the
user's row lock, so exactly one of them changes the password.

A request must not tell whether an address has an account, by its answer or by its time: it
only enqueues the mail's task for the address (accounts/tasks.py), the same INSERT for every
address; the worker finds the account and makes the token when it sends the mail.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import User

SUBJECT = "Reset your password"
BIGINT_MAX = 2**63 - 1


class InvalidResetToken(Exception):
    """The uid or token is wrong, used, expired, or names no active user."""


def reset_link(uid: str, token: str) -> str:
    """The mail's instructions: ``PASSWORD_RESET_URL`` with ``{uid}`` and ``{token}`` filled in,
    or, without it, both values to paste into the front end."""
    if settings.PASSWORD_RESET_URL:
        return settings.PASSWORD_RESET_URL.replace("{uid}", uid).replace("{token}", token)
    return f"uid: {uid}\ntoken: {token}"


def reset_message(user: User) -> EmailMessage:
    """The reset mail for the user, with a fresh token."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    body = (
        f"Someone asked to reset the password of the account {user.email}.\n\n"
        "If it was you, choose a new password with this:\n\n"
        f"{reset_link(uid, token)}\n\n"
        f"It works once, within {minutes} minutes. If it was not you, ignore this mail: "
        "your password stays as it is.\n"
    )
    return EmailMessage(SUBJECT, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def message_for(email: str) -> EmailMessage | None:
    """The reset mail, with a fresh token, for the active account with this (normalized) email,
    or None if there is none. Users whose password login staff turned off get none, as Django's
    own reset form does."""
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        return None
    return reset_message(user)


def confirm_reset(
    uid: str, token: str, new_password: str, check_rules: Callable[[str, User], object]
) -> User:
    """Set the new password if the token is valid for the uid's user; raise InvalidResetToken if
    not. ``check_rules(password, user)`` validates the password for that user (it raises).
    Setting the password ends every session of the user (``User.save``)."""
    try:
        user_id = int(urlsafe_base64_decode(uid).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidResetToken from exc
    if not 0 < user_id <= BIGINT_MAX:
        raise InvalidResetToken
    with transaction.atomic():
        # Locked: a concurrent use of the same token waits, then sees the new password hash,
        # which no longer matches the token.
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not default_token_generator.check_token(user, token):
            raise InvalidResetToken
        check_rules(new_password, user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
    return user

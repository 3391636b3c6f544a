"""A user's sessions: the refresh tokens issued to them (SimpleJWT's ``OutstandingToken``) that
are neither used, revoked nor expired.

Revocation itself is the user's security stamp (``User.security_stamp``, checked on every
request); blacklisting the outstanding refresh tokens as well keeps this list, and the admin's
view of it, true to what still works.
"""

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User


def still_valid(tokens: QuerySet[OutstandingToken]) -> QuerySet[OutstandingToken]:
    """Those of the refresh tokens that are neither used, revoked nor expired."""
    return tokens.filter(blacklistedtoken__isnull=True, expires_at__gt=timezone.now())


def active_sessions(user: User) -> QuerySet[OutstandingToken]:
    """The user's refresh tokens that still refresh, newest first."""
    return still_valid(OutstandingToken.objects.filter(user=user)).order_by("-created_at")


def blacklist_outstanding(user: User) -> int:
    """Blacklist every active refresh token of the user; returns how many. Concurrent calls, or
    a concurrent refresh, may blacklist the same token: the unique index keeps one row."""
    rows = [BlacklistedToken(token_id=pk) for pk in active_sessions(user).values_list("pk", flat=True)]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)

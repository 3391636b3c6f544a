"""What revocation costs an authenticated request: the security-stamp comparison
(api/authentication.py), timed in-process against the whole authentication it is part of,
and the queries authentication runs (the user row it reads anyway: one)."""

import timeit

from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils.crypto import constant_time_compare
from rest_framework.request import Request

from api.authentication import SECURITY_STAMP_CLAIM, BearerTokenAuthentication

CALLS = 2_000


def measure(token: str) -> dict:
    """Microseconds per call of bearer authentication and of the stamp check within it, the
    check's share of it, and the queries one authentication runs."""
    request = Request(RequestFactory().get("/users/me", HTTP_AUTHORIZATION=f"Bearer {token}"))
    auth = BearerTokenAuthentication()
    with CaptureQueriesContext(connection) as queries:
        authenticated = auth.authenticate(request)
    if authenticated is None:
        raise SystemExit("the token was not read as a bearer token")
    user, validated = authenticated
    claim = validated.get(SECURITY_STAMP_CLAIM, "")

    def check() -> bool:
        return constant_time_compare(str(claim), user.security_stamp)

    if not check():
        raise SystemExit("the bench's token does not carry its user's security stamp")
    # The best of three runs: neighbours on a shared machine only ever slow a run down.
    authenticate_us = (
        min(timeit.repeat(lambda: auth.authenticate(request), number=CALLS, repeat=3)) / CALLS * 1e6
    )
    check_us = min(timeit.repeat(check, number=CALLS * 10, repeat=3)) / (CALLS * 10) * 1e6
    return {
        "authenticate_us": round(authenticate_us, 1),
        "stamp_check_us": round(check_us, 3),
        "check_share_of_authentication": f"{100 * check_us / authenticate_us:.2f}%",
        "queries_per_authentication": len(queries),
    }

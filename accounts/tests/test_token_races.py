"""Concurrent uses of one refresh token, on real threads with their own database connections."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.tokens import RefreshToken
from testing.threads import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 5
THREADS = 8


def post(path, token):
    return lambda: APIClient().post(path, {"refresh": token}, format="json")


def test_concurrent_refreshes_of_one_token_give_exactly_one_new_pair(user):
    for _ in range(ROUNDS):
        token = RefreshToken.for_user(user)
        responses = run_at_once([post("/login/refresh", str(token)) for _ in range(THREADS)])
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] + [401] * (THREADS - 1)
        assert all(
            r.json() == {"detail": "Could not validate credentials"}
            for r in responses
            if r.status_code == 401
        )
        assert BlacklistedToken.objects.filter(token__jti=token["jti"]).count() == 1
        [winner] = [r.json() for r in responses if r.status_code == 200]
        assert APIClient().post("/login/refresh", {"refresh": winner["refresh_token"]}).status_code == 200
    # Each round: the token given, the winner's new one, and the one the check above made.
    assert OutstandingToken.objects.filter(user=user).count() == 3 * ROUNDS


def test_concurrent_refreshes_and_logouts_of_one_token_let_one_through(user):
    for _ in range(ROUNDS):
        token = str(RefreshToken.for_user(user))
        calls = [post("/login/refresh", token), post("/logout", token)] * (THREADS // 2)
        responses = run_at_once(calls)
        successes = [r for r in responses if r.status_code in (200, 204)]
        assert len(successes) == 1
        assert sorted(r.status_code for r in responses if r not in successes) == [401] * (THREADS - 1)

"""Clock skew between instances: a token issued by an instance whose clock runs up to
JWT_LEEWAY_SECONDS (default 30) ahead is accepted, and `exp` is honoured with the same margin,
for access and refresh tokens alike."""

import subprocess
import sys
import time
from datetime import timedelta

import jwt
import pytest
from django.conf import settings

from accounts.tokens import AccessToken, RefreshToken
from api.authentication import SECURITY_STAMP_CLAIM
from testing import REPO

pytestmark = pytest.mark.django_db

LEEWAY = 30


def access_token(user, *, iat_offset: float = 0, exp_offset: float = 600) -> str:
    now = time.time()
    claims = {
        "user_id": user.pk,
        "token_type": "access",
        "jti": "skew",
        "iat": int(now + iat_offset),
        "exp": int(now + exp_offset),
        SECURITY_STAMP_CLAIM: user.security_stamp,
    }
    return jwt.encode(claims, settings.SECRET_KEY, "HS256")


def get_me(client, token: str):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/users/me")


def test_the_default_leeway_is_30_seconds():
    assert settings.SIMPLE_JWT["LEEWAY"] == timedelta(seconds=LEEWAY)
    assert AccessToken().get_token_backend().get_leeway() == timedelta(seconds=LEEWAY)


@pytest.mark.parametrize("seconds_ahead", [2, LEEWAY - 5])
def test_token_issued_by_a_clock_ahead_within_the_leeway_is_accepted(api_client, user, seconds_ahead):
    response = get_me(api_client, access_token(user, iat_offset=seconds_ahead))
    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def test_token_issued_further_ahead_than_the_leeway_is_refused(api_client, user):
    response = get_me(api_client, access_token(user, iat_offset=LEEWAY + 60))
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


def test_exp_is_honoured_with_the_leeway(api_client, user):
    assert get_me(api_client, access_token(user, iat_offset=-600, exp_offset=-5)).status_code == 200
    assert (
        get_me(api_client, access_token(user, iat_offset=-600, exp_offset=-(LEEWAY + 5))).status_code == 401
    )


def test_refresh_token_from_a_clock_ahead_is_accepted(api_client, user):
    refresh = RefreshToken.for_user(user)
    refresh["iat"] = int(time.time()) + 5
    response = api_client.post("/login/refresh", {"refresh": str(refresh)}, format="json")
    assert response.status_code == 200


def test_jwt_leeway_seconds_sets_it():
    code = "from django.conf import settings; print(settings.SIMPLE_JWT['LEEWAY'].total_seconds())"
    env = {"JWT_LEEWAY_SECONDS": "5", "DEBUG": "true", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        [
            sys.executable,
            "-c",
            f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup(); {code}",
        ],
        cwd=REPO,
        env={**env, "DATABASE_URL": "postgres://x@127.0.0.1:1/x", "SECRET_KEY": settings.SECRET_KEY},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "5.0"

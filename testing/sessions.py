"""Logins as the server keeps them, for the tests of revocation (password change, logout
everywhere, deletion, password reset) over real HTTP."""

from accounts.models import User
from accounts.tokens import issue_pair
from testing.assertions import assert_error
from testing.servers import Server

INVALID = "Could not validate credentials"


def session(user: User) -> dict[str, str]:
    """A fresh login's tokens (`access_token`, `refresh_token`), issued as POST /login does."""
    return issue_pair(user)


def assert_revoked(server: Server, tokens: dict[str, str]) -> None:
    """Both tokens of a login are refused: the access token at /users/me (401 with
    `WWW-Authenticate: Bearer`), and the refresh token at /login/refresh (401)."""
    me = server.request("GET", "/users/me", token=tokens["access_token"])
    assert_error(me, 401, INVALID, headers={"WWW-Authenticate": "Bearer"})
    refreshed = server.request("POST", "/login/refresh", json_body={"refresh": tokens["refresh_token"]})
    assert_error(refreshed, 401, INVALID)


def assert_works(server: Server, tokens: dict[str, str]) -> None:
    """The access token reads /users/me (the refresh token is left unused)."""
    me = server.request("GET", "/users/me", token=tokens["access_token"])
    assert me.status == 200, me.body

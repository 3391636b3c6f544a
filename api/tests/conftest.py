"""The package's gunicorn (`server`, testing/plugin.py) and a client for it whose every answer
is checked against the served OpenAPI schema, as the test client's are."""

from collections.abc import Callable

import pytest

from accounts.models import User
from accounts.tokens import AccessToken
from testing.net import Response
from testing.schema_check import check
from testing.servers import Server


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """The package's `server` (testing/plugin.py) lets many signups through."""
    return {"SIGNUP_RATE": "1000/minute"}


@pytest.fixture
def call(server: Server) -> Callable[..., Response]:
    """``call(method, path, user=None, json_body=None, headers=None)``: one request over HTTP,
    as `user` (a bearer token) when given; its answer must match the schema."""

    def request(
        method: str, path: str, *, user: User | None = None, json_body=None, headers: dict | None = None
    ) -> Response:
        token = str(AccessToken.for_user(user)) if user is not None else None
        answer = server.request(method, path, json_body=json_body, headers=headers, token=token)
        assert answer.status < 500, server.log()[-3000:]
        check(method, path.split("?")[0], answer.status, answer.headers.get("Content-Type", ""), answer.body)
        return answer

    return request

"""Test clients of the API in this process: one signed in as a user, and the one way to log in.

Over real HTTP the same login is `Server.login()` (testing/servers.py).
"""

from typing import Any

from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import AccessToken
from testing import PASSWORD


def client_for(user: User) -> APIClient:
    """A test client that sends a fresh access token of `user` as `Authorization: Bearer ...`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def login(client: APIClient, email: str = "owner@example.com", password: str = PASSWORD, **extra: Any):
    """POST /login as the original's clients send it (a form, the email as `username`; the
    contract's OAuth2 password form). `extra` goes to the test client (REMOTE_ADDR=...,
    HTTP_X_FORWARDED_FOR=...). Returns the response as it came (200 with `access_token`,
    `token_type` and `refresh_token`, or 403, 422, 429); it asserts nothing."""
    return client.post("/login", {"username": email, "password": password}, format="multipart", **extra)

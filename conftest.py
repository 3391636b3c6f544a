"""Fixtures shared by every app's tests: users, posts, and clients signed in as them. The test
kit's plugin (testing/plugin.py) adds the fixtures every test gets and the quick tier."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from posts.models import Post
from testing import PASSWORD
from testing.clients import client_for

pytest_plugins = ["testing.plugin"]


@pytest.fixture
def api_client() -> APIClient:
    """A test client that sends no credentials."""
    return APIClient()


@pytest.fixture
def make_user(db):
    """`make_user(email=None, password=PASSWORD, **fields) -> User`: a saved user; without an
    email, user1@example.com, user2@example.com, ... in turn."""
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, password: str = PASSWORD, **extra) -> User:
        return User.objects.create_user(
            email=email or f"user{next(counter)}@example.com", password=password, **extra
        )

    return make


@pytest.fixture
def user(make_user) -> User:
    """owner@example.com, the owner of `make_post`'s posts unless it is given another."""
    return make_user("owner@example.com")


@pytest.fixture
def other_user(make_user) -> User:
    """other@example.com."""
    return make_user("other@example.com")


@pytest.fixture
def auth_client(user) -> APIClient:
    """A test client signed in as `user`."""
    return client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    """A test client signed in as `other_user`."""
    return client_for(other_user)


@pytest.fixture
def make_post(user):
    """`make_post(owner=None, **fields) -> Post`: a saved post owned by `owner`, or by the `user`
    fixture (owner@example.com, made for this) when no owner is given; title "a title" and
    content "some content" unless `fields` say otherwise."""

    def make(owner: User | None = None, **fields) -> Post:
        fields.setdefault("title", "a title")
        fields.setdefault("content", "some content")
        return Post.objects.create(owner=owner or user, **fields)

    return make

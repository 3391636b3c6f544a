"""POST /users/me/password, POST /logout/all and DELETE /users/me over real HTTP (gunicorn)."""

import pytest

from accounts.models import User
from testing import PASSWORD
from testing.sessions import assert_revoked, assert_works, session

pytestmark = pytest.mark.django_db(transaction=True)

INVALID_LOGIN = {"detail": "Invalid Credentials"}
NEW_PASSWORD = "a brand new pass phrase"


def change_password(server, token, current, new):
    return server.request(
        "POST",
        "/users/me/password",
        json_body={"current_password": current, "new_password": new},
        token=token,
    )


def test_password_change_ends_every_session_and_the_new_password_logs_in(server, account):
    first, second = session(account), session(account)
    answer = change_password(server, first["access_token"], PASSWORD, NEW_PASSWORD)
    assert (answer.status, answer.body) == (204, b"")
    assert_revoked(server, first)
    assert_revoked(server, second)
    assert server.login(password=PASSWORD).status == 403
    fresh = server.login(password=NEW_PASSWORD)
    assert fresh.status == 200
    assert_works(server, fresh.json())


def test_wrong_current_password_is_403_and_changes_nothing(server, account):
    tokens, before = session(account), account.password
    answer = change_password(server, tokens["access_token"], "not-the-password", NEW_PASSWORD)
    assert (answer.status, answer.json()) == (403, INVALID_LOGIN)
    account.refresh_from_db()
    assert account.password == before
    assert_works(server, tokens)


@pytest.mark.parametrize("new", ["short", "12345678901", "owner@example.com", "x" * 129, 12345678], ids=str)
def test_new_password_breaking_the_rules_is_422_at_new_password(server, account, new):
    tokens, before = session(account), account.password
    answer = change_password(server, tokens["access_token"], PASSWORD, new)
    assert answer.status == 422
    assert {tuple(error["loc"]) for error in answer.json()["detail"]} == {("body", "new_password")}
    account.refresh_from_db()
    assert account.password == before
    assert_works(server, tokens)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/users/me/password"), ("POST", "/logout/all"), ("DELETE", "/users/me")],
)
def test_account_routes_need_a_token(server, method, path):
    answer = server.request(method, path)
    assert (answer.status, answer.json()) == (401, {"detail": "Not authenticated"})


def test_logout_everywhere_ends_every_session_of_the_caller_only(server, account, make_user):
    other = make_user("other@example.com")
    mine, elsewhere, theirs = session(account), session(account), session(other)
    for path in ("/logout/all", "/logout/all/"):
        account.refresh_from_db()  # a login now
        answer = server.request("POST", path, token=session(account)["access_token"])
        assert (answer.status, answer.body) == (204, b"")
    assert_revoked(server, mine)
    assert_revoked(server, elsewhere)
    assert_works(server, theirs)
    account.refresh_from_db()
    assert_works(server, session(account))  # a login afterwards works


def test_deleting_the_account_takes_its_posts_and_votes(server, account, make_user):
    other = make_user("other@example.com")
    their_post = other.posts.create(title="theirs", content="c")
    my_post = account.posts.create(title="mine", content="c")
    account.votes.create(post=their_post)
    other.votes.create(post=their_post)
    other.votes.create(post=my_post)
    tokens, reader = session(account), session(other)

    answer = server.request(
        "DELETE", "/users/me", json_body={"password": PASSWORD}, token=tokens["access_token"]
    )

    assert (answer.status, answer.body) == (204, b"")
    assert not User.objects.filter(pk=account.pk).exists()
    # Every post and vote belongs to a user (foreign keys), so these are all that are left.
    assert list(User.objects.filter(posts__isnull=False).values_list("posts__title", flat=True)) == ["theirs"]
    assert list(User.objects.filter(votes__isnull=False).values_list("votes__user_id", flat=True)) == [
        other.pk
    ]
    listed = server.request("GET", "/posts/", token=reader["access_token"]).json()
    assert [(item["Post"]["title"], item["votes"]) for item in listed] == [("theirs", 1)]
    assert_revoked(server, tokens)
    assert server.login(password=PASSWORD).status == 403


@pytest.mark.parametrize(
    ("body", "status"), [({"password": "wrong-password"}, 403), ({}, 422), (None, 422)], ids=str
)
def test_account_survives_a_wrong_or_missing_password(server, account, body, status):
    account.posts.create(title="kept", content="c")
    tokens = session(account)
    kwargs = {"json_body": body} if body is not None else {}
    answer = server.request("DELETE", "/users/me", token=tokens["access_token"], **kwargs)
    assert answer.status == status
    if status == 403:
        assert answer.json() == INVALID_LOGIN
    assert User.objects.filter(pk=account.pk).exists() and account.posts.count() == 1
    assert_works(server, tokens)

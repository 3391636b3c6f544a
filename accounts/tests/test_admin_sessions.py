"""The admin: a user's active sessions and ending them; its login shares POST /login's limit."""

import jwt
import pytest
from django.test import Client

from accounts.tokens import issue_pair
from testing import PASSWORD

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


def jti_of(refresh_token: str) -> str:
    return jwt.decode(refresh_token, options={"verify_signature": False})["jti"]


def test_user_page_lists_active_sessions_only(admin_client, api_client, user):
    used, kept, logged_out = (issue_pair(user)["refresh_token"] for _ in range(3))
    assert api_client.post("/login/refresh", {"refresh": used}).status_code == 200
    assert api_client.post("/logout", {"refresh": logged_out}).status_code == 204
    page = admin_client.get(f"{USERS}{user.pk}/change/").content.decode()
    assert "active sessions" in page.lower()
    assert jti_of(kept) in page
    assert jti_of(used) not in page and jti_of(logged_out) not in page


def test_ending_all_sessions_empties_the_list(admin_client, user):
    tokens = issue_pair(user)
    answer = admin_client.post(
        USERS, {"action": "end_all_sessions", "_selected_action": [user.pk]}, follow=True
    )
    assert "Ended every session of 1 user(s)." in answer.content.decode()
    page = admin_client.get(f"{USERS}{user.pk}/change/").content.decode()
    assert jti_of(tokens["refresh_token"]) not in page


def admin_login(client, password, email="boss@example.com"):
    return client.post("/admin/login/", {"username": email, "password": password, "next": "/admin/"})


def test_admin_login_failures_count_with_api_login_failures(settings, make_user, frozen_clock):
    settings.LOGIN_FAILURE_RATE = "4/hour"
    make_user("boss@example.com", is_staff=True, is_superuser=True)
    browser, api = Client(), Client()
    assert admin_login(browser, "wrong-1").status_code == 200
    assert api.post("/login", {"username": "boss@example.com", "password": "wrong-2"}).status_code == 403
    assert admin_login(browser, "wrong-3").status_code == 200
    assert api.post("/login", {"username": "boss@example.com", "password": "wrong-4"}).status_code == 403

    refused = admin_login(browser, PASSWORD)  # the right password, past the limit

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Too many failed logins from this address." in refused.content.decode()
    assert "_auth_user_id" not in browser.session
    assert api.post("/login", {"username": "boss@example.com", "password": PASSWORD}).status_code == 429


def test_forty_wrong_admin_passwords_then_the_right_one_is_refused(make_user, frozen_clock):
    make_user("boss@example.com", is_staff=True, is_superuser=True)
    browser = Client()
    statuses = {admin_login(browser, f"guess-{i}").status_code for i in range(40)}
    assert statuses == {200, 429}
    assert admin_login(browser, PASSWORD).status_code == 429
    assert "_auth_user_id" not in browser.session


def test_successful_admin_logins_are_not_counted(settings, make_user, frozen_clock):
    settings.LOGIN_FAILURE_RATE = "2/hour"
    make_user("boss@example.com", is_staff=True, is_superuser=True)
    for _ in range(4):
        browser = Client()
        assert admin_login(browser, PASSWORD).status_code == 302
        assert "_auth_user_id" in browser.session


def test_the_three_password_doors_share_one_failed_login_count(settings, make_user, frozen_clock):
    """POST /login, a password-confirming route and the admin's login form all count through
    api.throttling.login_attempt: failures at any of them refuse the others."""
    settings.LOGIN_FAILURE_RATE = "3/hour"
    boss = make_user("boss@example.com", is_staff=True, is_superuser=True)
    browser, api = Client(), Client()
    token = issue_pair(boss)["access_token"]
    confirm = {"current_password": "wrong-1", "new_password": "a-new-password-123"}
    bearer = {"Authorization": f"Bearer {token}"}
    assert (
        api.post("/users/me/password", confirm, content_type="application/json", headers=bearer).status_code
        == 403
    )
    assert api.post("/login", {"username": "boss@example.com", "password": "wrong-2"}).status_code == 403
    assert admin_login(browser, "wrong-3").status_code == 200
    # Right passwords now, at each door: the shared count refuses every one.
    assert admin_login(browser, PASSWORD).status_code == 429
    assert api.post("/login", {"username": "boss@example.com", "password": PASSWORD}).status_code == 429
    confirm["current_password"] = PASSWORD
    assert (
        api.post("/users/me/password", confirm, content_type="application/json", headers=bearer).status_code
        == 429
    )

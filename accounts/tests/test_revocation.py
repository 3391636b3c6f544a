"""Every way a user's sessions end, whoever acts: each earlier access and refresh token is then
refused over real HTTP (gunicorn), at once and on every instance."""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command

from accounts.models import User
from testing.servers import gunicorn
from testing.sessions import assert_revoked, assert_works, session

pytestmark = pytest.mark.django_db(transaction=True)

USERS = "/admin/accounts/user/"


def test_staff_password_change_in_the_admin(server, admin_client, account):
    tokens = session(account)
    answer = admin_client.post(
        f"{USERS}{account.pk}/password/",
        {"usable_password": "true", "password1": "staff chose this", "password2": "staff chose this"},
    )
    assert answer.status_code == 302
    assert_revoked(server, tokens)


def test_staff_turning_password_login_off_in_the_admin(server, admin_client, account):
    tokens = session(account)
    answer = admin_client.post(
        f"{USERS}{account.pk}/password/", {"usable_password": "false", "unset-password": "Disable"}
    )
    assert answer.status_code == 302
    account.refresh_from_db()
    assert not account.has_usable_password()
    assert_revoked(server, tokens)


def test_manage_py_changepassword(server, account, monkeypatch):
    tokens = session(account)
    typed = iter(["typed at the prompt", "typed at the prompt"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    call_command("changepassword", "owner@example.com", stdout=None)
    assert_revoked(server, tokens)


def test_deactivation_and_reactivation(server, account):
    tokens = session(account)
    account.is_active = False
    account.save()
    assert_revoked(server, tokens)
    account.is_active = True
    account.save()
    assert_revoked(server, tokens)  # coming back does not bring the old sessions back
    account.refresh_from_db()
    assert_works(server, session(account))


def test_deletion(server, account):
    tokens = session(account)
    account.delete()
    assert_revoked(server, tokens)


def test_staff_end_all_sessions_from_the_user_list(server, admin_client, account, make_user):
    other = make_user("other@example.com")
    tokens, theirs = session(account), session(other)
    answer = admin_client.post(USERS, {"action": "end_all_sessions", "_selected_action": [account.pk]})
    assert answer.status_code == 302
    assert_revoked(server, tokens)
    assert_works(server, theirs)


def test_a_password_hash_upgrade_at_login_is_not_a_change(server, account):
    # Hashed with fewer rounds than today's: the login re-hashes it, which must end nothing.
    account.password = PBKDF2PasswordHasher().encode("password123", "somesalt", iterations=1000)
    account.save(update_fields=["password"])
    account.refresh_from_db()
    tokens = session(account)
    login = server.login(account.email)
    assert login.status == 200
    account.refresh_from_db()
    assert not account.password.startswith("pbkdf2_sha256$1000$")  # upgraded
    assert_works(server, tokens)


def test_password_change_on_one_instance_ends_sessions_on_another(server, account):
    tokens = session(account)
    with gunicorn({}, workers=1) as other:
        assert_works(other, tokens)
        changed = server.request(
            "POST",
            "/users/me/password",
            json_body={"current_password": "password123", "new_password": "a brand new pass phrase"},
            token=tokens["access_token"],
        )
        assert changed.status == 204
        assert_revoked(other, tokens)
    assert User.objects.get(pk=account.pk).security_stamp != account.security_stamp

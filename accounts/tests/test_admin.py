import pytest
from django.core.management import CommandError, call_command

from accounts.models import User

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


def test_createsuperuser_by_email_without_prompts(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long pass phrase")
    call_command("createsuperuser", "--noinput", "--email", "Boss@Example.com", verbosity=0)
    boss = User.objects.get()
    assert boss.email == "boss@example.com"
    assert boss.is_staff and boss.is_superuser
    assert boss.check_password("a long pass phrase")


def test_createsuperuser_takes_the_email_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long pass phrase")
    call_command("createsuperuser", "--noinput", verbosity=0)
    assert User.objects.get().email == "root@example.com"


def test_createsuperuser_asks_for_an_email_not_a_username():
    with pytest.raises(CommandError, match="--email"):
        call_command("createsuperuser", "--noinput", verbosity=0)


def test_user_search_by_email(admin_client, user, other_user):
    page = admin_client.get(USERS, {"q": "OTHER@"}).content.decode()
    assert other_user.email in page
    assert user.email not in page


def test_user_form_has_no_password_field_only_the_change_password_page(admin_client, user):
    page = admin_client.get(f"{USERS}{user.pk}/change/").content.decode()
    assert 'name="password"' not in page
    assert user.password not in page  # not even the hash
    assert 'href="../password/"' in page

    response = admin_client.post(
        f"{USERS}{user.pk}/password/",
        {"password1": "brand new secret", "password2": "brand new secret"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand new secret")


def test_staff_add_a_user_by_email(admin_client):
    response = admin_client.post(
        f"{USERS}add/",
        {
            "email": "New@Example.com",
            "usable_password": "true",
            "password1": "s3cret pass",
            "password2": "s3cret pass",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(email="new@example.com")
    assert created.check_password("s3cret pass")
    assert not created.is_staff


def test_staff_cannot_add_an_email_twice_in_another_case(admin_client, user):
    response = admin_client.post(
        f"{USERS}add/",
        {
            "email": "OWNER@example.com",
            "usable_password": "true",
            "password1": "s3cret pass",
            "password2": "s3cret pass",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact="owner@example.com").count() == 1
    # Nor any post: every post belongs to a user, and no user has one.
    assert not User.objects.filter(posts__isnull=False).exists()

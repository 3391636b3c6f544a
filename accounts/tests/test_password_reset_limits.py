"""Password reset: the rate limits, the link, expiry, and the mail without an SMTP server."""

import re

import pytest
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.password_reset import default_token_generator

pytestmark = pytest.mark.django_db

SENT = {"message": "If that address has an account, a reset link has been sent"}


def ask(client, email, **extra):
    return client.post("/password-reset", {"email": email}, format="json", **extra)


@pytest.fixture
def high_limits(settings):
    settings.PASSWORD_RESET_RATE = settings.PASSWORD_RESET_EMAIL_RATE = "1000/minute"


def test_requests_from_one_address_are_limited(
    settings, api_client, mail_settings, mailbox, user, frozen_clock
):
    settings.PASSWORD_RESET_RATE = "3/hour"
    settings.PASSWORD_RESET_EMAIL_RATE = "1000/hour"
    answers = [ask(api_client, f"person{i}@example.com") for i in range(3)]
    assert [answer.status_code for answer in answers] == [202, 202, 202]
    limited = ask(api_client, "owner@example.com")
    assert limited.status_code == 429
    assert limited.json()["detail"].startswith("Too many password resets from this address.")
    assert 0 < int(limited.headers["Retry-After"]) <= 3600
    other_address = ask(api_client, "owner@example.com", REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 202
    assert len(mailbox.wait_for(1)) == 1


@pytest.mark.parametrize("email", ["owner@example.com", "nobody@example.com"])
def test_requests_for_one_email_are_limited_whether_or_not_it_has_an_account(
    settings, api_client, mail_settings, user, email, frozen_clock
):
    settings.PASSWORD_RESET_RATE = "1000/hour"
    settings.PASSWORD_RESET_EMAIL_RATE = "2/hour"
    answers = [
        ask(api_client, spelling, REMOTE_ADDR=f"10.0.0.{i}")
        for i, spelling in enumerate([email, email.upper(), email])
    ]
    assert [answer.status_code for answer in answers] == [202, 202, 429]
    assert answers[2].json()["detail"].startswith("Too many password resets for this email address.")
    assert int(answers[2].headers["Retry-After"]) > 0
    assert ask(api_client, "someone.else@example.com").status_code == 202


def test_reset_link_follows_password_reset_url(
    settings, api_client, mail_settings, mailbox, user, high_limits
):
    settings.PASSWORD_RESET_URL = "https://app.example.com/reset?uid={uid}&token={token}"
    assert ask(api_client, "owner@example.com").status_code == 202
    text = mailbox.wait_for(1)[0].get_content()
    link = re.search(r"https://app\.example\.com/reset\?uid=(\S+)&token=(\S+)", text)
    assert link, text
    assert default_token_generator.check_token(user, link[2])
    assert link[1] == urlsafe_base64_encode(force_bytes(user.pk))


def test_expired_token_is_422_at_token(settings, api_client, user):
    uid, token = urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
    settings.PASSWORD_RESET_TIMEOUT = -1  # made more than PASSWORD_RESET_TIMEOUT seconds ago
    answer = api_client.post(
        "/password-reset/confirm", {"uid": uid, "token": token, "new_password": "a new pass phrase"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "token"]
    user.refresh_from_db()
    assert user.check_password("password123")


def _logged_mail(caplog) -> str:
    [record] = [r for r in caplog.records if r.name == "config.mail"]
    assert record.levelname == "WARNING"
    return record.getMessage()


def test_without_an_smtp_server_the_mail_goes_to_the_log_without_its_token(
    settings, api_client, caplog, user, high_limits
):
    settings.MAILERS = {"default": {"BACKEND": "config.mail.LogEmailBackend"}}  # EMAIL_HOST unset
    settings.DEBUG = False
    assert ask(api_client, "owner@example.com").status_code == 202
    text = _logged_mail(caplog)
    assert "To: owner@example.com" in text
    assert "body withheld" in text
    assert "token" not in text.replace("reset token", "")
    assert not any("token:" in r.getMessage() for r in caplog.records)


def test_with_debug_on_the_logged_mail_has_its_token(settings, api_client, caplog, user, high_limits):
    settings.MAILERS = {"default": {"BACKEND": "config.mail.LogEmailBackend"}}
    settings.DEBUG = True  # the explicit local-development mode
    assert ask(api_client, "owner@example.com").status_code == 202
    text = _logged_mail(caplog)
    token = re.search(r"token: (\S+)", text)[1]
    assert default_token_generator.check_token(user, token)

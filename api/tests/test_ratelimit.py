"""Failed logins and signups are limited per client address (in-process, local-memory cache)."""

import pytest
from django.core.checks import Error
from rest_framework.test import APIClient

from accounts.models import User
from api.throttling import Rate, check_rates, parse_rate
from testing import PASSWORD
from testing.assertions import assert_error
from testing.clients import login
from testing.threads import run_at_once

pytestmark = pytest.mark.django_db


WRONG = "wrong-pass"
# At the frozen clock's start a window has all of its 60 seconds to run.
IN_60_SECONDS = {"Retry-After": "60"}
TOO_MANY_LOGINS = "Too many failed logins from this address. Expected available in 60 seconds."
TOO_MANY_SIGNUPS = "Too many signups from this address. Expected available in 60 seconds."


@pytest.fixture(autouse=True)
def small_limits(settings, frozen_clock):
    """Small limits, counted on a clock stopped at the start of a window, so that a test's
    requests all fall in one window and a 429 says exactly 60 seconds."""
    settings.LOGIN_FAILURE_RATE = "3/minute"
    settings.SIGNUP_RATE = "2/minute"


def signup(client, email, **extra):
    return client.post("/users/", {"email": email, "password": "password123"}, format="json", **extra)


def test_past_the_limit_every_login_is_429_even_a_right_one(api_client, user):
    assert [login(api_client, password=WRONG).status_code for _ in range(3)] == [403] * 3
    assert_error(login(api_client, password=WRONG), 429, TOO_MANY_LOGINS, headers=IN_60_SECONDS)
    assert_error(login(api_client, password=PASSWORD), 429, TOO_MANY_LOGINS, headers=IN_60_SECONDS)
    assert_error(
        login(api_client, password=WRONG, email="nobody@example.com"),
        429,
        TOO_MANY_LOGINS,
        headers=IN_60_SECONDS,
    )


def test_successful_logins_are_not_counted(api_client, user):
    for _ in range(10):
        assert login(api_client, password=PASSWORD).status_code == 200
    assert [login(api_client, password=WRONG).status_code for _ in range(3)] == [403] * 3
    assert login(api_client, password=WRONG).status_code == 429


def test_malformed_logins_are_not_counted(api_client, user):
    for _ in range(5):
        assert api_client.post("/login", {}, format="multipart").status_code == 422
    assert [login(api_client, password=WRONG).status_code for _ in range(3)] == [403] * 3


def test_limit_is_per_client_address(api_client, user):
    for _ in range(3):
        login(api_client, password=WRONG)
    assert login(api_client, password=WRONG).status_code == 429
    assert login(api_client, REMOTE_ADDR="10.0.0.2", password=PASSWORD).status_code == 200


def test_a_forged_forwarded_for_does_not_reset_the_count(api_client, user):
    for _ in range(3):
        login(api_client, password=WRONG)
    for forged in ("10.1.1.1", "10.1.1.2, 10.1.1.3"):
        assert login(api_client, password=WRONG, HTTP_X_FORWARDED_FOR=forged).status_code == 429


def test_behind_one_proxy_the_address_it_saw_counts(api_client, user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for _ in range(3):
        assert login(api_client, password=WRONG, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 403
    # The client may prepend anything; the proxy appends what it saw, and that is what counts.
    assert (
        login(api_client, password=WRONG, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7").status_code == 429
    )
    assert login(api_client, HTTP_X_FORWARDED_FOR="203.0.113.8", password=PASSWORD).status_code == 200


def test_the_count_starts_again_when_the_window_passes(api_client, user, settings, frozen_clock):
    settings.LOGIN_FAILURE_RATE = "2/second"
    assert [login(api_client, password=WRONG).status_code for _ in range(3)] == [403, 403, 429]
    frozen_clock.advance(0.5)  # still the same window
    assert login(api_client, password=PASSWORD).status_code == 429
    frozen_clock.advance(0.5)  # the next one
    assert login(api_client, password=PASSWORD).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_failed_logins_are_all_counted(user):
    # Guesses in flight together may all be checked (at most a server's requests in flight);
    # each checked one counts, so once they are answered the address is past the limit.
    responses = run_at_once([lambda: login(APIClient(), password=WRONG) for _ in range(12)])
    assert {r.status_code for r in responses} <= {403, 429}
    assert sum(r.status_code == 403 for r in responses) >= 3
    assert login(APIClient(), password=PASSWORD).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_correct_logins_in_flight_together_are_never_refused(user):
    # Counting an attempt before its password was checked refused correct logins whenever
    # more than the limit were in flight at once.
    responses = run_at_once([lambda: login(APIClient(), password=PASSWORD) for _ in range(12)])
    assert [r.status_code for r in responses] == [200] * 12


def test_signups_are_limited_per_address(api_client):
    assert signup(api_client, "a@example.com").status_code == 201
    assert signup(api_client, "a@example.com").status_code == 409  # attempts count, not accounts
    assert_error(signup(api_client, "b@example.com"), 429, TOO_MANY_SIGNUPS, headers=IN_60_SECONDS)
    assert not User.objects.filter(email="b@example.com").exists()
    assert signup(api_client, "b@example.com", REMOTE_ADDR="10.0.0.9").status_code == 201


def test_signup_limit_does_not_touch_logins(api_client, user):
    for i in range(3):
        signup(api_client, f"s{i}@example.com")
    assert login(api_client, password=PASSWORD).status_code == 200


def test_an_unreachable_cache_does_not_take_logins_down(api_client, user, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/4",
        }
    }
    assert [login(api_client, password=WRONG).status_code for _ in range(4)] == [403] * 4
    assert login(api_client, password=PASSWORD).status_code == 200
    assert signup(api_client, "c@example.com").status_code == 201


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("10/minute", Rate(10, 60)),
        ("5/s", Rate(5, 1)),
        ("100/hour", Rate(100, 3600)),
        (" 3 / days ", Rate(3, 86400)),
    ],
)
def test_rates_parse(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["ten/minute", "10", "10/fortnight", "-1/minute", ""])
def test_bad_rate_setting_fails_the_system_check(settings, text):
    settings.SIGNUP_RATE = text
    assert [(type(e), e.msg.split(":")[0]) for e in check_rates()] == [(Error, "SIGNUP_RATE")]

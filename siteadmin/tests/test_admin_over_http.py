"""The admin over plain HTTP: Secure cookies by default, a refusal that says what to do, and
ADMIN_COOKIES_SECURE=false for a private network."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def log_in(client: Client, email: str, password: str, *, browser_over_http: bool = False):
    page = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    if browser_over_http:
        # A browser keeps a Secure cookie but never sends it back over plain HTTP.
        secure = [name for name, morsel in client.cookies.items() if morsel["secure"]]
        assert secure == ["csrftoken"]
        for name in secure:
            del client.cookies[name]
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "csrfmiddlewaretoken": token},
    )


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        email="staff@example.com", password="password123", is_staff=True, is_superuser=True
    )


def test_refused_admin_form_over_http_says_to_use_https_or_the_setting(settings, staff):
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = True
    response = log_in(Client(enforce_csrf_checks=True), staff.email, "password123", browser_over_http=True)
    assert response.status_code == 403
    assert "the admin needs HTTPS" in response.text
    assert "ADMIN_COOKIES_SECURE=false" in response.text


def test_other_csrf_refusals_keep_djangos_page(settings):
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "CSRF verification failed" in response.text
    assert "ADMIN_COOKIES_SECURE" not in response.text


def test_admin_works_over_http_with_insecure_cookies_allowed(settings, staff):
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False
    client = Client(enforce_csrf_checks=True)
    response = log_in(client, staff.email, "password123")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200

"""Every error answer of every route is JSON in the contract's shape, the documentation pages
and unknown paths included (CONTRACT.md §1, §5); the admin's HTML pages are for people and
answer in HTML."""

import re

import pytest
from django.urls import get_resolver

from testing.assertions import assert_error

pytestmark = pytest.mark.django_db

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"]


def every_path() -> list[str]:
    """A path for each route but the admin's (ids filled in), and a few no route matches."""
    paths = []
    for pattern in get_resolver().url_patterns:
        route = str(pattern.pattern).lstrip("^").rstrip("$")
        if route.startswith("admin/"):
            continue
        route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route).replace("/?", "/").replace("\\.", ".")
        paths.append("/" + route)
    return [*paths, "/no/such/path", "/docs/extra", "/posts/1/nope", "/admin-api"]


def test_the_paths_are_found():
    assert {"/docs/", "/redoc/", "/openapi.json/", "/favicon.ico", "/posts/", "/posts/1/"} <= set(
        every_path()
    )


@pytest.mark.parametrize("method", METHODS)
def test_every_error_of_every_route_is_json(api_client, method):
    for path in every_path():
        response = api_client.generic(method, path)
        if response.status_code < 400:
            continue
        assert response["Content-Type"] == "application/json", (method, path, response.content[:100])
        if method != "HEAD":
            assert_error(response, response.status_code)


@pytest.mark.parametrize("path", ["/docs", "/docs/", "/redoc", "/redoc/", "/favicon.ico"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_the_pages_answer_other_methods_405_in_json(api_client, path, method):
    assert_error(api_client.generic(method, path), 405, "Method Not Allowed")


def test_favicon_is_an_icon(api_client):
    response = api_client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")

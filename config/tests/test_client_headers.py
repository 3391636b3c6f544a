"""Headers that real clients and front ends send: any `Accept` gets the JSON answer, a CORS
preflight is allowed every header it asks for, and a front end can read every header the API
sends beyond the safelisted ones."""

import pytest

pytestmark = pytest.mark.django_db

ORIGIN = "https://front.example.com"
ACCEPTS = [None, "", "text/html", "text/plain", "application/hal+json", "*/*", "application/xml;q=0.9"]


def headers_for(accept):
    return {} if accept is None else {"HTTP_ACCEPT": accept}


@pytest.mark.parametrize("accept", ACCEPTS)
def test_any_accept_header_gets_json(api_client, auth_client, make_post, accept):
    post = make_post()
    extra = headers_for(accept)
    answers = [
        api_client.get("/", **extra),
        auth_client.get("/posts/", **extra),
        auth_client.get(f"/posts/{post.pk}", **extra),
        api_client.post(
            "/users/", {"email": f"a{len(accept or '')}@example.com", "password": "password123"}, **extra
        ),
        api_client.post(
            "/login", {"username": "x@example.com", "password": "nope-nope"}, format="multipart", **extra
        ),
        api_client.get("/posts/", **extra),
        auth_client.post("/posts/", {"title": 5}, **extra),
        api_client.get("/no/such/path", **extra),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 201, 403, 401, 422, 404]
    for answer in answers:
        assert answer["Content-Type"] == "application/json"
        answer.json()


@pytest.mark.parametrize("accept", [*ACCEPTS, "application/vnd.oai.openapi+json"])
def test_openapi_json_is_application_json(api_client, accept):
    response = api_client.get("/openapi.json", **headers_for(accept))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["openapi"].startswith("3.")


def test_docs_pages_stay_html_whatever_accept_says(api_client):
    for path in ("/docs", "/redoc"):
        response = api_client.get(path, HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")


def allowed_headers(response) -> set[str]:
    return {name.strip() for name in response["Access-Control-Allow-Headers"].lower().split(",")}


def test_preflight_allows_every_header_it_asks_for(api_client):
    asked = (
        "authorization, content-type, cache-control, pragma, x-client-version, if-none-match, Idempotency-Key"
    )
    response = api_client.options(
        "/posts/",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=asked,
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert {name.strip().lower() for name in asked.split(",")} <= allowed_headers(response)
    assert "access-control-request-headers" in response["Vary"].lower()


def test_preflight_leaves_out_what_is_not_a_header_name(api_client):
    response = api_client.options(
        "/posts/",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-ok, bad header, x\u00e9, ",
    )
    allowed = allowed_headers(response)
    assert "x-ok" in allowed and "bad header" not in allowed and "" not in allowed
    assert all(name.isascii() for name in allowed)


def test_front_end_can_read_every_header_the_api_sends(api_client):
    response = api_client.get("/users/me", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 401
    exposed = {name.strip().lower() for name in response["Access-Control-Expose-Headers"].split(",")}
    assert {"allow", "retry-after", "www-authenticate", "x-request-id"} <= exposed
    # What a 401 and a 405 send beyond the safelisted headers is all exposed.
    sent = {*response.headers, *api_client.patch("/", HTTP_ORIGIN=ORIGIN).headers}
    safelisted = {
        "content-type",
        "content-length",
        "content-language",
        "cache-control",
        "expires",
        "last-modified",
        "pragma",
    }
    not_for_scripts = {
        "vary",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
        "cross-origin-opener-policy",
    }
    assert {
        name.lower() for name in sent if not name.lower().startswith("access-control-")
    } - safelisted - not_for_scripts <= exposed

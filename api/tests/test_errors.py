import pytest

from posts.models import Post
from testing.assertions import assert_error

pytestmark = pytest.mark.django_db


def test_root_says_hello(api_client):
    response = api_client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello World"}


def test_unknown_path_is_404_not_found(api_client):
    assert_error(api_client.get("/no/such/path"), 404, "Not Found")


@pytest.mark.parametrize(
    ("method", "path"), [("patch", "/"), ("delete", "/users/"), ("get", "/vote/"), ("get", "/login")]
)
def test_wrong_method_is_405(api_client, method, path):
    assert_error(getattr(api_client, method)(path), 405, "Method Not Allowed")


def test_wrong_method_on_protected_route_is_405_with_a_token(auth_client):
    assert_error(auth_client.patch("/posts/"), 405, "Method Not Allowed")


def test_malformed_json_is_422_at_body(auth_client):
    response = auth_client.post("/posts/", "{not json", content_type="application/json")
    assert_error(response, 422, [{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}])
    assert not Post.objects.exists()


def test_missing_body_is_422_at_body(auth_client):
    response = auth_client.post("/posts/", "", content_type="application/json")
    assert_error(response, 422, [{"loc": ["body"], "msg": "Field required", "type": "missing"}])
    assert not Post.objects.exists()


@pytest.mark.parametrize("body", ["[1, 2]", '"a string"', "3", "null"])
def test_json_that_is_not_an_object_is_422(auth_client, body):
    assert_error(auth_client.post("/posts/", body, content_type="application/json"), 422, loc=["body"])
    assert not Post.objects.exists()


def test_non_json_content_type_is_415(auth_client):
    response = auth_client.post("/posts/", "title=x", content_type="text/plain")
    assert_error(response, 415, 'Unsupported media type "text/plain" in request.')
    assert not Post.objects.exists()


def test_no_redirect_between_slash_spellings(api_client, user):
    for path in (
        "/users",
        "/users/",
        f"/users/{user.pk}",
        f"/users/{user.pk}/",
        "/posts",
        "/posts/",
        "/vote",
        "/vote/",
    ):
        response = api_client.get(path)
        assert response.status_code not in (301, 302, 307, 308), path


def test_cors_preflight_is_answered(api_client):
    response = api_client.options(
        "/posts/",
        HTTP_ORIGIN="https://front.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_options_is_405_outside_cors_preflight(api_client):
    response = api_client.options("/users/")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


def test_schema_answers_with_and_without_trailing_slash(api_client):
    for path in ("/openapi.json", "/openapi.json/"):
        response = api_client.get(path)
        assert response.status_code == 200
        assert response.json()["openapi"].startswith("3.")


def test_cross_origin_front_end_can_read_retry_after(api_client):
    response = api_client.get("/", HTTP_ORIGIN="https://front.example.com")
    exposed = response.headers["Access-Control-Expose-Headers"].lower()
    assert "retry-after" in exposed and "x-request-id" in exposed

"""The served OpenAPI schema: every route of the contract, its answers, and the check that holds
every response of the suite to it (testing/schema_check.py, wired in testing/plugin.py)."""

import json

import pytest
from openapi_schema_validator import OAS30Validator

from api import read_budget
from testing import schema_check
from testing.schema_check import SchemaMismatch, api_schema

pytestmark = pytest.mark.django_db

# The contract's routes (docs/api.md, "Routes" and "Errors" and "HTTP semantics"): the status codes each one is documented with.
CONTRACT = {
    ("get", "/"): {"200"},
    ("post", "/users/"): {"201", "409", "415", "422"},
    ("get", "/users/{id}"): {"200", "404", "422"},
    ("post", "/login"): {"200", "403", "415", "422"},
    ("get", "/posts/"): {"200", "401", "422"},
    ("post", "/posts/"): {"201", "401", "415", "422"},
    ("get", "/posts/{id}"): {"200", "401", "404", "422"},
    ("put", "/posts/{id}"): {"200", "401", "403", "404", "415", "422"},
    ("patch", "/posts/{id}"): {"200", "401", "403", "404", "415", "422"},
    ("delete", "/posts/{id}"): {"204", "401", "403", "404", "422"},
    ("post", "/vote/"): {"201", "401", "404", "409", "415", "422"},
    ("post", "/posts/{id}/report"): {"201", "401", "404", "409", "415", "422", "429"},
}
PUBLIC = {("get", "/"), ("post", "/users/"), ("get", "/users/{id}"), ("post", "/login")}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_schema(operation: dict, status: str) -> dict:
    return operation["responses"][status]["content"]["application/json"]["schema"]


@pytest.fixture
def served(api_client) -> dict:
    response = api_client.get("/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"  # as the original served it
    return response.json()


def test_served_schema_is_the_one_responses_are_checked_against(served):
    assert served == api_schema()


def test_title_version_description_and_tags(served):
    assert served["openapi"].startswith("3.")
    assert served["info"]["title"] == "Social media API"
    assert served["info"]["version"]
    assert "Bearer" in served["info"]["description"]
    assert [tag["name"] for tag in served["tags"]][:4] == ["Posts", "Users", "Authentication", "Vote"]


@pytest.mark.parametrize(("method", "path"), sorted(CONTRACT))
def test_every_contract_route_with_its_status_codes(served, method, path):
    operation = served["paths"][path][method]
    assert CONTRACT[method, path] <= set(operation["responses"])
    assert operation["summary"]
    assert operation["tags"][0] in {"Posts", "Users", "Authentication", "Vote", "Root"}
    if (method, path) in PUBLIC:
        assert operation["security"] == [{}]
    else:
        assert operation["security"] == [{"OAuth2PasswordBearer": []}]


def test_paths_are_spelled_as_in_the_original(served):
    assert {"/", "/users/", "/users/{id}", "/login", "/posts/", "/posts/{id}", "/vote/"} <= set(
        served["paths"]
    )


def test_security_scheme_is_the_oauth2_password_flow_at_login(served):
    assert served["components"]["securitySchemes"] == {
        "OAuth2PasswordBearer": {"type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": "login"}}}
    }


def test_post_shapes_nested_and_flat(served):
    paths, schemas = served["paths"], served["components"]["schemas"]
    assert json_schema(paths["/posts/"]["get"], "200") == {"type": "array", "items": ref("PostOut")}
    assert json_schema(paths["/posts/{id}"]["get"], "200") == ref("PostOut")
    for method in ("put", "patch"):
        assert json_schema(paths["/posts/{id}"][method], "200") == ref("Post")
    assert json_schema(paths["/posts/"]["post"], "201") == ref("Post")
    assert schemas["PostOut"]["properties"]["Post"]["allOf"] == [ref("Post")]
    assert schemas["PostOut"]["required"] == ["Post", "votes"]
    post = schemas["Post"]
    assert list(post["properties"]) == [
        "title",
        "content",
        "published",
        "id",
        "created_at",
        "owner_id",
        "owner",
    ]
    assert set(post["required"]) == set(post["properties"])
    assert post["properties"]["owner"]["allOf"] == [ref("User")]
    # A request body holds only what a client may set.
    assert list(schemas["PostRequest"]["properties"]) == ["title", "content", "published"]
    assert "content" not in paths["/posts/{id}"]["delete"]["responses"]["204"]


def test_login_takes_a_form_and_signup_json(served):
    login = served["paths"]["/login"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in login
    assert "application/json" not in login
    assert login["application/x-www-form-urlencoded"]["schema"] == ref("LoginRequest")
    assert served["components"]["schemas"]["LoginRequest"]["required"] == ["password", "username"]
    signup = served["paths"]["/users/"]["post"]["requestBody"]["content"]
    assert list(signup) == ["application/json"]
    assert served["components"]["schemas"]["User"]["required"] == ["created_at", "email", "id"]
    assert "password" not in served["components"]["schemas"]["User"]["properties"]


def test_error_answers_have_the_contracts_shapes(served):
    for item in served["paths"].values():
        for operation in item.values():
            for status in operation["responses"]:
                if status.startswith("4"):
                    expected = ref("HTTPValidationError" if status == "422" else "HTTPError")
                    takes_key = any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
                    if status == "422" and takes_key:  # or a string: the key was used for another request
                        expected = ref("ValidationOrKeyReuseError")
                    assert json_schema(operation, status) == expected, (operation["operationId"], status)
    schemas = served["components"]["schemas"]
    assert schemas["ValidationOrKeyReuseError"]["oneOf"] == [ref("HTTPValidationError"), ref("HTTPError")]
    assert schemas["HTTPError"]["properties"] == {"detail": {"type": "string"}}
    assert schemas["HTTPValidationError"]["properties"]["detail"] == {
        "type": "array",
        "items": ref("ValidationError"),
    }
    assert schemas["ValidationError"]["required"] == ["loc", "msg", "type"]


def test_every_example_matches_its_schema(served):
    checked = 0
    for item in served["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                for media in response.get("content", {}).values():
                    for example in media.get("examples", {}).values():
                        root = {**media["schema"], "components": served["components"]}
                        OAS30Validator(root).validate(example["value"])
                        checked += 1
    assert checked >= 20


def test_docs_pages_load_their_assets_from_this_server(api_client):
    for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        response = api_client.get(path)
        assert response.status_code == 200
        html = response.content.decode()
        assert "/static/drf_spectacular_sidecar/" in html and asset in html
        assert "https://" not in html, path


# The check itself: it must refuse what the schema does not say.


def test_check_accepts_a_documented_answer():
    schema_check.check(
        "GET", "/posts/7/", 404, "application/json", b'{"detail": "post with id: 7 was not found"}'
    )
    schema_check.check("DELETE", "/posts/7", 204, "", b"")


def test_check_ignores_routes_the_schema_does_not_have():
    schema_check.check("GET", "/admin/", 302, "text/html", b"")
    schema_check.check("PUT", "/vote/", 405, "application/json", b'{"detail": "Method Not Allowed"}')


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "complaint"),
    [
        ("GET", "/posts/", 500, b'{"detail": "x"}', "status 500 is not documented"),
        ("GET", "/posts/7", 200, b'{"Post": {}}', "'votes' is a required property"),
        ("GET", "/users/1", 200, b'{"id": 1, "email": "a@b.co", "created_at": "x"}', "is not a 'date-time'"),
        ("GET", "/users/1", 422, b'{"detail": "not a list"}', "is not of type 'array'"),
        (
            "POST",
            "/login",
            200,
            b'{"access_token": "t", "token_type": "bearer", "x": 1}',
            "'x' was unexpected",
        ),
        ("DELETE", "/posts/7", 204, b"{}", "without a body"),
    ],
)
def test_check_refuses_what_the_schema_does_not_say(method, path, status, body, complaint):
    with pytest.raises(SchemaMismatch, match=complaint):
        schema_check.check(method, path, status, "application/json", body)


def test_every_test_response_is_checked(api_client, monkeypatch):
    responses = api_schema()["paths"]["/posts/"]["get"]["responses"]
    monkeypatch.delitem(responses, "401")
    with pytest.raises(SchemaMismatch, match="status 401 is not documented"):
        api_client.get("/posts/")


def test_blank_allowing_text_is_one_string_schema_not_string_or_string(served):
    # Redoc shows a oneOf of two strings as "string or string".
    [search] = [p for p in served["paths"]["/posts/"]["get"]["parameters"] if p["name"] == "search"]
    # No pattern (NUL is refused by validation, said once in the description) and no length
    # limit of our own on titles or on searches of them.
    assert search["schema"] == {"type": "string", "default": ""}
    title = served["components"]["schemas"]["PostRequest"]["properties"]["title"]
    assert title == {"type": "string"}
    assert "^[^\\x00]*$" not in json.dumps(served)
    assert "string or string" not in json.dumps(list(string_or_string(served)))


def string_or_string(node: object):
    """Every oneOf in the schema whose branches are all strings (Redoc: "string or string")."""
    if isinstance(node, dict):
        branches = node.get("oneOf") or []
        if branches and all(isinstance(b, dict) and b.get("type") == "string" for b in branches):
            yield "string or string"
        for value in node.values():
            yield from string_or_string(value)
    elif isinstance(node, list):
        for value in node:
            yield from string_or_string(value)


@pytest.mark.parametrize(
    "path", ["/posts/", "/posts/{id}/comments", "/users/{id}/followers", "/users/{id}/following"]
)
def test_the_reads_with_a_time_budget_document_its_429(served, path):
    """A search or an expensive read past the user's share of the time is 429 (api/read_budget.py):
    the lists that take either say so with the answer's detail."""
    examples = served["paths"][path]["get"]["responses"]["429"]["content"]["application/json"]["examples"]
    assert read_budget.PAUSED in [example["value"]["detail"] for example in examples.values()]

"""JSON bodies as real clients send them: a byte-order mark is skipped, and JSON nested too deep
to read is a 422 like any other unreadable JSON, on every route that reads JSON."""

import json
import re

import pytest

from accounts.tokens import RefreshToken
from comments.models import Comment
from posts.models import Post
from testing.schema_check import api_schema
from votes.models import Vote

pytestmark = pytest.mark.django_db

BOM = b"\xef\xbb\xbf"
JSON_INVALID = {"detail": [{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}]}


def deeply_nested(depth: int = 10_000) -> bytes:
    return (
        b'{"email": "deep@example.com", "password": "password123", "x": ' + b"[" * depth + b"]" * depth + b"}"
    )


def json_routes() -> list[tuple[str, str]]:
    """Every documented (method, path template) whose body may be JSON."""
    return [
        (method, template)
        for template, item in api_schema()["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def existing_path(template: str, post: Post) -> str:
    """`template` with its id naming a thing that exists, so that its route reaches the body:
    `post`, or for /comments/{id} a comment made on it."""
    if template.startswith("/comments/"):
        comment = Comment.objects.create(post=post, owner=post.owner, content="c")
        return re.sub(r"\{[^}]+\}", str(comment.pk), template)
    return re.sub(r"\{[^}]+\}", str(post.pk), template)


def test_the_json_routes_are_found():
    assert {("post", "/users/"), ("post", "/posts/"), ("put", "/posts/{id}"), ("post", "/vote/")} <= set(
        json_routes()
    )


@pytest.mark.parametrize(("method", "template"), json_routes())
def test_json_nested_too_deep_is_422_on_every_json_route(auth_client, make_post, method, template):
    path = existing_path(template, make_post())
    response = getattr(auth_client, method)(path, deeply_nested(), content_type="application/json")
    assert response.status_code == 422, response.content[:200]
    assert response.json() == JSON_INVALID
    assert response.headers["X-Request-ID"]


def test_nesting_the_parser_can_follow_is_still_read(api_client):
    body = json.dumps({"email": "nest@example.com", "password": "password123", "x": [[[[[]]]]]})
    assert api_client.post("/users/", body, content_type="application/json").status_code == 201


def test_byte_order_mark_before_json_is_skipped(api_client, user, auth_client, other_user):
    body = BOM + json.dumps({"email": "bom@example.com", "password": "password123"}).encode()
    response = api_client.post("/users/", body, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["email"] == "bom@example.com"

    body = BOM + json.dumps({"title": "t", "content": "c"}).encode()
    response = auth_client.post("/posts/", body, content_type="application/json")
    assert response.status_code == 201
    post = Post.objects.get(pk=response.json()["id"])
    assert (post.title, post.content) == ("t", "c")

    body = BOM + json.dumps({"title": "t2", "content": "c2", "published": False}).encode()
    assert auth_client.put(f"/posts/{post.pk}", body, content_type="application/json").status_code == 200
    body = BOM + json.dumps({"title": "t3"}).encode()
    assert auth_client.patch(f"/posts/{post.pk}", body, content_type="application/json").status_code == 200
    post.refresh_from_db()
    assert (post.title, post.content, post.published) == ("t3", "c2", False)

    other = Post.objects.create(owner=other_user, title="x", content="y")
    body = BOM + json.dumps({"post_id": other.pk, "dir": 1}).encode()
    assert auth_client.post("/vote/", body, content_type="application/json").status_code == 201
    assert Vote.objects.filter(user=user, post=other).exists()

    body = BOM + json.dumps({"refresh": str(RefreshToken.for_user(user))}).encode()
    assert api_client.post("/login/refresh", body, content_type="application/json").status_code == 200


def test_byte_order_mark_alone_is_still_unreadable_json(auth_client):
    response = auth_client.post("/posts/", BOM, content_type="application/json")
    assert response.status_code == 422
    assert response.json() == JSON_INVALID

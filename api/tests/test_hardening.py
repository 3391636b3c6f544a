"""Bad input on every route: a 4xx in the contract's shape, never a 500, nothing stored."""

import json

import pytest

from accounts.models import User
from posts.models import Post
from testing.assertions import assert_error
from votes.models import Vote

pytestmark = pytest.mark.django_db

BAD_IDS = ["abc", "-1", "0", "1.5", "1e3", "0x1f", "99999999999999999999", "-99999999999999999999", "%00"]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_every_route_with_an_id_answers_404_or_422_to_any_id(auth_client, api_client, make_post, bad_id):
    make_post()
    body = {"title": "t", "content": "c"}
    for response in (
        api_client.get(f"/users/{bad_id}"),
        auth_client.get(f"/posts/{bad_id}"),
        auth_client.put(f"/posts/{bad_id}", body),
        auth_client.patch(f"/posts/{bad_id}", body),
        auth_client.delete(f"/posts/{bad_id}"),
    ):
        assert_error(response, (404, 422))
        if response.status_code == 422:
            assert response.json()["detail"][0]["loc"] == ["path", "id"]
    assert Post.objects.get().title == "a title"


@pytest.mark.parametrize("post_id", ["abc", "", None, -1, 0, 1.5, 2**63, 2**64, -(2**64), [], {}, 1e300])
def test_vote_on_any_post_id_is_404_or_422(auth_client, post_id):
    response = auth_client.post("/vote/", {"post_id": post_id, "dir": 1})
    assert_error(response, (404, 422))
    assert not Vote.objects.exists()


@pytest.mark.parametrize(
    "value",
    ["-1", "", "abc", "1.5", "1e2", "%00", "9223372036854775808", "-99999999999999999999", "9" * 5000],
)
@pytest.mark.parametrize("name", ["limit", "skip"])
def test_limit_and_skip_of_any_size_or_kind_are_422(auth_client, name, value):
    response = auth_client.get(f"/posts/?{name}={value}")
    assert_error(response, 422)
    assert response.json()["detail"][0]["loc"] == ["query", name]


def test_largest_limit_and_skip_are_served(auth_client, make_post):
    make_post()
    response = auth_client.get(f"/posts/?limit={2**63 - 1}&skip={2**63 - 1}")
    assert response.status_code == 200 and response.json() == []


def test_nul_in_every_string_field_is_422(auth_client, api_client, make_post):
    post = make_post()
    nul = "a\u0000b"
    cases = [
        (api_client.post("/users/", {"email": f"x{nul}@example.com", "password": "password123"}), "email"),
        (api_client.post("/users/", {"email": "x@example.com", "password": f"password{nul}"}), "password"),
        (
            api_client.post("/login", {"username": nul, "password": "password123"}, format="multipart"),
            "username",
        ),
        (
            api_client.post("/login", {"username": "x@example.com", "password": nul}, format="multipart"),
            "password",
        ),
        (auth_client.post("/posts/", {"title": nul, "content": "c"}), "title"),
        (auth_client.post("/posts/", {"title": "t", "content": nul}), "content"),
        (auth_client.put(f"/posts/{post.pk}", {"title": nul, "content": "c"}), "title"),
        (auth_client.patch(f"/posts/{post.pk}", {"content": nul}), "content"),
    ]
    for response, field in cases:
        assert_error(response, 422)
        assert ["body", field] in [error["loc"] for error in response.json()["detail"]]
    response = auth_client.get("/posts/", {"search": nul})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "search"]
    assert not User.objects.filter(email__startswith="x").exists()
    assert list(Post.objects.values_list("title", "content")) == [("a title", "some content")]


def test_emoji_and_other_unicode_round_trip_exactly(auth_client, api_client):
    text = "\U0001f469\u200d\U0001f469\u200d\U0001f467 🎉 café \U0001d518\U0001d52b עִבְרִית 日本語 \u200d\ufeff e\u0301"
    # Sent with every non-ASCII character escaped, astral ones as surrogate pairs.
    raw = json.dumps({"title": text, "content": text * 3})
    created = auth_client.post("/posts/", raw, content_type="application/json").json()
    assert created["title"] == text and created["content"] == text * 3
    assert auth_client.get(f"/posts/{created['id']}").json()["Post"]["title"] == text
    [found] = auth_client.get("/posts/", {"search": "🎉 café"}).json()
    assert found["Post"]["content"] == text * 3
    post = Post.objects.get()
    assert post.title == text and post.content == text * 3


# Titles have no limit of their own (posts/tests/test_long_titles.py).
@pytest.mark.parametrize(("field", "limit"), [("content", 100_000)], ids=["content-100000"])
def test_post_lengths_up_to_the_documented_maximum(auth_client, field, limit):
    ok = {"title": "t", "content": "c", field: "🎉" * limit}
    assert auth_client.post("/posts/", ok).status_code == 201
    too_long = {**ok, field: "🎉" * (limit + 1)}
    response = auth_client.post("/posts/", too_long)
    assert_error(response, 422)
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert Post.objects.count() == 1


def test_email_and_password_lengths_up_to_the_documented_maximum(api_client):
    email_254 = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example.com"
    email_254 = email_254[: 254 - len(".com")] + ".com"
    assert len(email_254) == 254
    password_128 = "pässwörd1" * 14 + "xy"
    assert len(password_128) == 128
    assert api_client.post("/users/", {"email": email_254, "password": password_128}).status_code == 201
    for body, field in (
        ({"email": "a" + email_254, "password": "password123"}, "email"),
        ({"email": "c@example.com", "password": password_128 + "z"}, "password"),
    ):
        response = api_client.post("/users/", body)
        assert_error(response, 422)
        assert response.json()["detail"][0]["loc"] == ["body", field]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('{"title": "t",}', "application/json"),
        ("[1, 2]", "application/json"),
        ('"a string"', "application/json"),
        ("null", "application/json"),
        ("", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        ('{"title": "t"}', "application/json; charset=bz2_codec"),
        ("title=t&content=c", "application/x-www-form-urlencoded"),
        ("title=t", "text/plain"),
        ("<post/>", "application/xml"),
    ],
    ids=[
        "malformed",
        "trailing-comma",
        "array",
        "string",
        "null",
        "empty",
        "bad-utf8",
        "bz2",
        "form",
        "text",
        "xml",
    ],
)
def test_bad_bodies_on_every_json_route_are_415_or_422(auth_client, make_post, body, content_type):
    post = make_post()
    for method, path in (
        ("post", "/users/"),
        ("post", "/posts/"),
        ("put", f"/posts/{post.pk}"),
        ("patch", f"/posts/{post.pk}"),
        ("post", "/vote/"),
    ):
        response = getattr(auth_client, method)(path, body, content_type=content_type)
        assert_error(response, (415, 422))
    assert User.objects.count() == 1 and Post.objects.get().title == "a title"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data"])
def test_login_with_a_body_it_cannot_read_is_415_or_422(api_client, user, content_type):
    response = api_client.post("/login", '{"username": "owner@example.com"}', content_type=content_type)
    assert_error(response, (415, 422))


@pytest.mark.parametrize("published", ["f", "nein", 2, 1.5, None, [], {}])
def test_published_must_be_one_of_the_boolean_forms(auth_client, make_post, published):
    post = make_post(published=True)
    for response in (
        auth_client.post("/posts/", {"title": "t", "content": "c", "published": published}),
        auth_client.patch(f"/posts/{post.pk}", {"published": published}),
    ):
        assert_error(response, 422)
        assert response.json()["detail"][0]["loc"] == ["body", "published"]
    assert list(Post.objects.values_list("published", flat=True)) == [True]


MASS_ASSIGNMENT = {
    "is_staff": True,
    "is_superuser": True,
    "id": 4242,
    "owner_id": 4243,
    "owner": {"id": 4243},
    "created_at": "2000-01-01T00:00:00Z",
    "date_joined": "2000-01-01T00:00:00Z",
    "votes": 99,
    "vote_count": 99,
    "user_id": 4243,
}


def test_server_owned_fields_in_any_body_have_no_effect(api_client, auth_client, user, other_user, make_post):
    MASS_ASSIGNMENT["owner_id"] = MASS_ASSIGNMENT["user_id"] = other_user.pk
    response = api_client.post(
        "/users/", {**MASS_ASSIGNMENT, "email": "new@example.com", "password": "password123"}
    )
    assert response.status_code == 201
    new = User.objects.get(email="new@example.com")
    assert not new.is_staff and not new.is_superuser
    assert new.pk != 4242 and new.date_joined.year != 2000

    created = auth_client.post("/posts/", {**MASS_ASSIGNMENT, "title": "t", "content": "c"}).json()
    post = make_post()
    auth_client.put(f"/posts/{post.pk}", {**MASS_ASSIGNMENT, "title": "t2", "content": "c2"})
    auth_client.patch(f"/posts/{post.pk}", MASS_ASSIGNMENT)
    auth_client.post("/vote/", {**MASS_ASSIGNMENT, "post_id": post.pk, "dir": 1})
    for stored in Post.objects.all():
        assert stored.owner_id == user.pk and stored.pk != 4242 and stored.created_at.year != 2000
    assert created["owner_id"] == user.pk
    assert list(Vote.objects.values_list("user_id", "post_id")) == [(user.pk, post.pk)]
    assert auth_client.get(f"/posts/{post.pk}").json()["votes"] == 1
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser

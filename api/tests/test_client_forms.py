"""What clients send, read as the original API read it (CONTRACT.md §1): JSON under any
JSON-like Content-Type (or none), the original's boolean forms, `null` for an optional text
field, and tokens pasted with surrounding whitespace."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.tokens import RefreshToken
from api.tests.test_json_bodies import existing_path, json_routes
from moderation.models import Report
from posts.models import Post
from testing.assertions import assert_error

pytestmark = pytest.mark.django_db

JSON_TYPES = [
    "",
    "application/json",
    "application/json; charset=utf-8; profile=x",
    "Application/JSON",
    "application/merge-patch+json",
    "application/vnd.api+json",
    "application/problem+json; charset=utf-8",
]
JSON_INVALID = [{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}]


@pytest.mark.parametrize("content_type", JSON_TYPES)
@pytest.mark.parametrize(("method", "template"), json_routes())
def test_every_json_route_reads_json_under_any_json_like_type(
    auth_client, make_post, method, template, content_type
):
    """Unreadable JSON answers the JSON parser's 422, not a 415: the body was read as JSON."""
    path = existing_path(template, make_post())
    response = auth_client.generic(method.upper(), path, b"{not json", content_type=content_type)
    assert_error(response, 422, JSON_INVALID)


@pytest.mark.parametrize("content_type", JSON_TYPES)
def test_posts_are_written_under_any_json_like_type(auth_client, make_post, content_type):
    created = auth_client.generic("POST", "/posts/", b'{"title": "t", "content": "c"}', content_type)
    assert created.status_code == 201, created.content
    post = make_post()
    patched = auth_client.generic("PATCH", f"/posts/{post.pk}", b'{"title": "patched"}', content_type)
    assert patched.status_code == 200, patched.content
    assert Post.objects.get(pk=post.pk).title == "patched"


def test_refresh_and_logout_read_json_under_a_json_like_type(api_client, user):
    token = str(RefreshToken.for_user(user))
    body = f'{{"refresh": "{token}"}}'.encode()
    refreshed = api_client.post("/login/refresh", body, content_type="application/vnd.api+json")
    assert refreshed.status_code == 200, refreshed.content
    newer = refreshed.json()["refresh_token"]
    # `generic` sends the bytes as they are; post() would encode them as JSON text when the
    # type is empty.
    logout = api_client.generic("POST", "/logout", f'{{"refresh": "{newer}"}}'.encode(), "")
    assert logout.status_code == 204, logout.content


@pytest.mark.parametrize("content_type", ["text/json", "application/jsonx", "text/plain", "application/xml"])
def test_other_types_are_still_refused(auth_client, content_type):
    response = auth_client.post("/posts/", b'{"title": "t", "content": "c"}', content_type=content_type)
    assert_error(response, (415, 422))
    assert not Post.objects.exists()


TRUE_FORMS = [True, 1, "true", "True", "TRUE", "1", "yes", "YES", "on", "On"]
FALSE_FORMS = [False, 0, "false", "False", "0", "no", "No", "off", "OFF"]


@pytest.mark.parametrize("form", TRUE_FORMS + FALSE_FORMS, ids=repr)
def test_published_takes_every_boolean_form_the_original_took(auth_client, make_post, form):
    expected = form in TRUE_FORMS
    created = auth_client.post("/posts/", {"title": "t", "content": "c", "published": form})
    assert created.status_code == 201, created.content
    assert created.json()["published"] is expected
    post = make_post(published=not expected)
    put = auth_client.put(f"/posts/{post.pk}", {"title": "t", "content": "c", "published": form})
    assert put.status_code == 200 and put.json()["published"] is expected
    post.refresh_from_db()
    assert post.published is expected
    post.published = not expected
    post.save()
    patched = auth_client.patch(f"/posts/{post.pk}", {"published": form})
    assert patched.status_code == 200 and patched.json()["published"] is expected
    post.refresh_from_db()
    assert post.published is expected


@pytest.mark.parametrize(
    "form",
    [None, 2, -1, 1.0, 0.0, "", " true", "t", "y", "n", "f", "nope", "truee", [], {}, [True]],
    ids=repr,
)
def test_published_refuses_what_the_original_refused(auth_client, make_post, form):
    post = make_post(published=True)
    for response in (
        auth_client.post("/posts/", {"title": "t", "content": "c", "published": form}),
        auth_client.put(f"/posts/{post.pk}", {"title": "x", "content": "x", "published": form}),
        auth_client.patch(f"/posts/{post.pk}", {"published": form}),
    ):
        assert_error(response, 422, loc=["body", "published"])
    assert list(Post.objects.values_list("title", "published")) == [("a title", True)]


def test_a_null_note_is_no_note(auth_client, make_post, other_user):
    post = make_post(owner=other_user)
    response = auth_client.post(f"/posts/{post.pk}/report", {"reason": "spam", "note": None})
    assert response.status_code == 201, response.content
    assert Report.objects.get().note == ""


def test_null_for_a_required_text_field_stays_422(auth_client, make_post):
    post = make_post()
    for response in (
        auth_client.post("/posts/", {"title": None, "content": "c"}),
        auth_client.patch(f"/posts/{post.pk}", {"title": None}),
        auth_client.post(f"/posts/{post.pk}/report", {"reason": None}),
    ):
        assert_error(response, 422)
    assert Post.objects.get().title == "a title" and not Report.objects.exists()


WHITESPACE = ["\n", "\r\n", " ", "\t", "  \n"]


@pytest.mark.parametrize("around", WHITESPACE, ids=repr)
def test_a_pasted_refresh_token_is_trimmed(api_client, user, around):
    token = str(RefreshToken.for_user(user))
    refreshed = api_client.post("/login/refresh", {"refresh": around + token + around})
    assert refreshed.status_code == 200, refreshed.content
    newer = refreshed.json()["refresh_token"]
    assert api_client.post("/logout", {"refresh": newer + around}).status_code == 204
    assert_error(api_client.post("/login/refresh", {"refresh": newer}), 401)  # really revoked


@pytest.mark.parametrize("around", WHITESPACE, ids=repr)
def test_a_pasted_reset_uid_and_token_are_trimmed(api_client, user, around):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    body = {"uid": around + uid + around, "token": token + around, "new_password": "a new pass phrase"}
    response = api_client.post("/password-reset/confirm", body)
    assert response.status_code == 204, response.content
    user.refresh_from_db()
    assert user.check_password("a new pass phrase")


def test_a_blank_pasted_token_is_still_refused(api_client, user):
    assert_error(api_client.post("/login/refresh", {"refresh": " \n"}), 401)
    body = {"uid": " ", "token": "\n", "new_password": "a new pass phrase"}
    assert_error(api_client.post("/password-reset/confirm", body), 422, loc=["body", "token"])

"""Titles have no length limit of their own (CONTRACT.md §1): a post the original held, however
long its title, is stored, read, listed, searched and written back unchanged; the request size
limit is the only bound."""

import pytest
from django.conf import settings

from posts.models import Post
from testing.assertions import assert_error

pytestmark = pytest.mark.django_db

# 100,000 characters, most of them outside ASCII: about 250 KB of UTF-8, far past what a
# b-tree index entry can hold (about 2.7 KB), well within the request limit.
LONG_TITLE = ("Ünïcødé 🎉 title " * 6_250)[:100_000]


def test_a_very_long_title_is_stored_read_listed_and_searched(auth_client):
    created = auth_client.post("/posts/", {"title": LONG_TITLE, "content": "c"})
    assert created.status_code == 201, created.content[:300]
    post_id = created.json()["id"]
    assert created.json()["title"] == LONG_TITLE
    assert Post.objects.get().title == LONG_TITLE
    assert auth_client.get(f"/posts/{post_id}").json()["Post"]["title"] == LONG_TITLE
    assert [p["Post"]["title"] for p in auth_client.get("/posts/").json()] == [LONG_TITLE]
    # A search term as long as a request line lets through, and one in the middle of the title.
    for term in (LONG_TITLE[:3_000], LONG_TITLE[50_000:50_100].upper()):
        found = auth_client.get("/posts/", {"search": term})
        assert found.status_code == 200, found.content[:300]
        assert [p["Post"]["id"] for p in found.json()] == [post_id]
    assert auth_client.get("/posts/", {"search": LONG_TITLE[:3_000] + "x"}).json() == []


def test_a_very_long_title_is_written_back_unchanged(auth_client, make_post):
    post = make_post()
    put = auth_client.put(f"/posts/{post.pk}", {"title": LONG_TITLE, "content": "c", "published": True})
    assert put.status_code == 200 and put.json()["title"] == LONG_TITLE
    longer = LONG_TITLE + "!"
    patched = auth_client.patch(f"/posts/{post.pk}", {"title": longer})
    assert patched.status_code == 200 and patched.json()["title"] == longer
    post.refresh_from_db()
    assert post.title == longer


def test_only_the_request_size_limit_bounds_a_title(auth_client):
    too_large = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert_error(auth_client.post("/posts/", {"title": too_large, "content": "c"}), 413)
    assert not Post.objects.exists()

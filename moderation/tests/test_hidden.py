"""A hidden post is 404 for everyone, its owner included, on every route, and counts nowhere a
client sees; staff still see it in the admin; restoring it brings it back exactly as it was."""

import pytest

from moderation import services
from moderation.models import ModerationAction
from posts.models import Post
from testing.assertions import assert_error
from testing.clients import client_for
from votes.models import Vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(make_user):
    return make_user("mod@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def hidden(make_post, user, other_user, moderator):
    post = make_post(title="hide me", content="spam spam")
    Vote.objects.create(user=other_user, post=post)
    Vote.objects.create(user=user, post=post)
    assert services.hide(moderator=moderator, posts=[post], reason="spam") == 1
    return post


@pytest.mark.parametrize("who", ["owner", "other"])
def test_a_hidden_post_is_404_on_every_route(hidden, auth_client, other_client, who):
    client = auth_client if who == "owner" else other_client
    pk = hidden.pk
    assert_error(client.get(f"/posts/{pk}"), 404, f"post with id: {pk} was not found")
    assert_error(client.get(f"/posts/{pk}/"), 404, f"post with id: {pk} was not found")
    for method in ("put", "patch"):
        response = getattr(client, method)(f"/posts/{pk}", {"title": "changed", "content": "changed"})
        assert_error(response, 404, f"post with id: {pk} does not exist")
    assert_error(client.delete(f"/posts/{pk}"), 404, f"post with id: {pk} does not exist")
    for direction in (1, 0):
        response = client.post("/vote/", {"post_id": pk, "dir": direction})
        assert_error(response, 404, f"Post with id: {pk} does not exist")
    assert_error(
        client.post(f"/posts/{pk}/report", {"reason": "spam"}), 404, f"post with id: {pk} does not exist"
    )
    for query in ("", "?sort=top", "?search=hide", "?sort=top&search=hide&limit=100"):
        response = client.get(f"/posts/{query}")
        assert response.status_code == 200
        assert pk not in [item["Post"]["id"] for item in response.json()], query
    # Nothing changed: the post, its votes, and no report.
    post = Post.objects.get(pk=pk)
    assert (post.title, post.content, post.hidden, post.vote_total) == ("hide me", "spam spam", True, 2)
    assert Vote.objects.filter(post=post).count() == 2
    assert not post.reports.exists()


def test_a_hidden_post_leaves_the_list_without_a_gap(make_post, auth_client, hidden):
    others = [make_post(title=f"kept {i}") for i in range(3)]
    listed = [item["Post"]["id"] for item in auth_client.get("/posts/?limit=2").json()]
    listed += [item["Post"]["id"] for item in auth_client.get("/posts/?limit=2&skip=2").json()]
    assert listed == [p.pk for p in reversed(others)]


def test_staff_still_see_a_hidden_post_in_the_admin(client, moderator, hidden):
    client.force_login(moderator)
    page = client.get("/admin/posts/post/", {"hidden__exact": "1"}).content.decode()
    assert ">hide me<" in page
    assert client.get(f"/admin/posts/post/{hidden.pk}/change/").status_code == 200


def test_restore_brings_the_post_back_exactly_as_it_was(make_post, user, other_user, moderator, auth_client):
    post = make_post(title="back soon", content="words")
    Vote.objects.create(user=other_user, post=post)
    before = auth_client.get(f"/posts/{post.pk}").json()
    listed_before = auth_client.get("/posts/?sort=top").json()
    services.hide(moderator=moderator, posts=[post], reason="checking")
    assert auth_client.get(f"/posts/{post.pk}").status_code == 404
    assert services.restore(moderator=moderator, posts=[post]) == 1
    assert auth_client.get(f"/posts/{post.pk}").json() == before
    assert before["votes"] == 1
    assert auth_client.get("/posts/?sort=top").json() == listed_before
    # The owner may edit it again, and the votes still count.
    assert auth_client.patch(f"/posts/{post.pk}", {"title": "edited"}).status_code == 200
    assert client_for(other_user).post("/vote/", {"post_id": post.pk, "dir": 0}).status_code == 201
    actions = list(ModerationAction.objects.order_by("id").values_list("action", "reason"))
    assert actions == [("hide", "checking"), ("restore", "")]


def test_a_stale_save_of_the_post_does_not_bring_it_back(make_post, moderator, auth_client):
    # An owner's PUT (or a staff edit) that read the post just before it was hidden saves the
    # whole row, `hidden` included, with what it read.
    post = make_post(title="racing")
    stale = Post.objects.get(pk=post.pk)
    services.hide(moderator=moderator, posts=[post], reason="spam")
    stale.title = "edited meanwhile"
    stale.save()
    assert Post.objects.get(pk=post.pk).hidden
    assert auth_client.get(f"/posts/{post.pk}").status_code == 404
    # Nor does a hand-written UPDATE; only the moderation actions change it.
    Post.objects.filter(pk=post.pk).update(hidden=False)
    assert Post.objects.get(pk=post.pk).hidden
    services.restore(moderator=moderator, posts=[post])
    assert not Post.objects.get(pk=post.pk).hidden

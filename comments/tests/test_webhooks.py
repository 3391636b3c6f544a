"""comment.created and comment.deleted are recorded for webhooks in the change's transaction."""

import pytest

from comments.models import Comment
from webhooks.models import Delivery, Endpoint, Event
from webhooks.signing import new_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint():
    return Endpoint.objects.create(
        url="https://hooks.example.com/", events=["comment.created", "comment.deleted"], secret=new_secret()
    )


def test_creating_and_deleting_a_comment_records_their_events(auth_client, user, post, endpoint):
    parent = auth_client.post(f"/posts/{post.pk}/comments", {"content": "c"}).json()
    reply = auth_client.post(f"/posts/{post.pk}/comments", {"content": "r", "parent_id": parent["id"]}).json()
    assert auth_client.delete(f"/comments/{parent['id']}").status_code == 204  # a tombstone
    events = list(Event.objects.order_by("created_at", "id").values_list("type", "data"))
    assert events == [
        (
            "comment.created",
            {"comment_id": parent["id"], "post_id": post.pk, "parent_id": None, "user_id": user.pk},
        ),
        (
            "comment.created",
            {"comment_id": reply["id"], "post_id": post.pk, "parent_id": parent["id"], "user_id": user.pk},
        ),
        ("comment.deleted", {"comment_id": parent["id"], "post_id": post.pk, "user_id": user.pk}),
    ]
    assert Delivery.objects.filter(endpoint=endpoint).count() == 3


def test_a_refused_comment_records_nothing(auth_client, post, endpoint):
    assert (
        auth_client.post(f"/posts/{post.pk}/comments", {"content": "c", "parent_id": 999}).status_code == 422
    )
    assert not Comment.objects.exists() and not Event.objects.exists()

"""POST /posts/ on its fast path (posts.creation, posts.serializers): what a client sees is what
DRF's serializer and the ORM give, the post and its ``post.created`` event are one statement,
and no event is lost to a subscription made while posts are being written."""

import json
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from posts.models import Post
from posts.serializers import PostWriteSerializer
from testing.clients import client_for
from webhooks.models import Delivery, Endpoint, Event
from webhooks.signing import new_secret

pytestmark = pytest.mark.django_db

BODY = {"title": "a title \u2028 é", "content": "some content", "published": False}


def subscribe(*events: str) -> Endpoint:
    return Endpoint.objects.create(url="https://hooks.example.com/", events=list(events), secret=new_secret())


def test_create_answers_what_drfs_serializer_gives_for_the_stored_row(auth_client, user):
    response = auth_client.post("/posts/", BODY)
    assert response.status_code == 201
    post = Post.objects.select_related("owner").get(pk=response.json()["id"])
    assert response.json() == json.loads(json.dumps(PostWriteSerializer(post).data))
    assert (post.title, post.content, post.published, post.owner_id) == (*BODY.values(), user.pk)
    assert response.headers["RateLimit-Policy"] == '"post";q=30;w=60'
    assert response.headers["RateLimit"].startswith('"post";r=29;')
    assert "Location" not in response.headers


def test_create_is_the_user_row_and_one_statement_with_no_transaction(auth_client):
    subscribe("post.created")
    with CaptureQueriesContext(connection) as queries:
        assert auth_client.post("/posts/", BODY).status_code == 201
    statements = [query["sql"] for query in queries]
    assert len(statements) == 2, statements
    assert statements[1].startswith('WITH post AS (INSERT INTO "posts_post"')


def test_a_created_post_has_its_event_with_its_ids_for_each_subscriber(auth_client, user):
    wants = subscribe("post.created", "vote.created")
    subscribe("vote.created")
    post_id = auth_client.post("/posts/", BODY).json()["id"]
    event = Event.objects.get()
    assert (event.type, event.data) == ("post.created", {"post_id": post_id, "user_id": user.pk})
    assert list(Delivery.objects.values_list("endpoint_id", "event_id")) == [(wants.pk, event.pk)]


def test_a_refused_create_writes_neither_post_nor_event(auth_client):
    subscribe("post.created")
    assert auth_client.post("/posts/", {"title": "t"}).status_code == 422
    assert auth_client.post("/posts/", None).status_code == 422
    assert not Post.objects.exists() and not Event.objects.exists()


@pytest.mark.parametrize("body", ["null", "[]", '"a post"', "7"])
def test_a_body_that_is_not_an_object_is_422_as_drf_words_it(auth_client, body):
    response = auth_client.post("/posts/", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert not Post.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_every_post_sent_after_a_subscription_committed_has_its_event(make_user):
    """Posts are written on threads while an endpoint subscribes: each post whose request was
    sent after the subscription committed has exactly one event and one delivery, and no event
    names a post that does not exist."""
    user = make_user()
    subscribed = threading.Event()
    stop = threading.Event()
    after: list[int] = []
    errors: list[object] = []

    def write() -> None:
        client = client_for(user)
        try:
            while not stop.is_set():
                sent_after = subscribed.is_set()
                response = client.post("/posts/", {"title": "t", "content": "c"})
                if response.status_code != 201:
                    errors.append(response.content)
                elif sent_after:
                    after.append(response.json()["id"])
        finally:
            connection.close()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.POST_RATE", "1000000/minute")
        threads = [threading.Thread(target=write) for _ in range(3)]
        for thread in threads:
            thread.start()
        while Post.objects.count() < 10:
            pass
        endpoint = subscribe("post.created")  # committed: autocommit, outside any transaction
        subscribed.set()
        while len(after) < 30 and not errors:
            pass
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors
    recorded = {event.data["post_id"] for event in Event.objects.all()}
    assert set(after) <= recorded
    assert recorded <= set(Post.objects.values_list("pk", flat=True))
    assert Delivery.objects.filter(endpoint=endpoint).count() == len(recorded) == Event.objects.count()

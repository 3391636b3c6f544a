"""Staff manage endpoints in the admin: the secret is shown once, private receivers are
refused, the queue's figures show, and a delivery can be sent again."""

import base64
import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks import Webhook

from webhooks import events
from webhooks.addresses import RefusedAddress, check_url
from webhooks.delivery import _keys
from webhooks.management.commands.worker import requeue_cut_off_tasks
from webhooks.models import Delivery, Endpoint
from webhooks.signing import headers, new_secret

pytestmark = pytest.mark.django_db

ENDPOINTS = "/admin/webhooks/endpoint/"
SECRET = re.compile(r'<code class="webhook-secret">(whsec_[A-Za-z0-9+/=]+)</code>')


def add(admin_client, url="https://hooks.example.com/in", events_=("post.created",)):
    return admin_client.post(f"{ENDPOINTS}add/", {"url": url, "events": list(events_), "is_active": "on"})


def test_new_endpoint_shows_its_secret_once(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # hooks.example.com need not resolve here
    answer = add(admin_client)
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    [secret] = SECRET.findall(answer.content.decode())
    endpoint = Endpoint.objects.get()
    assert endpoint.secret == secret and endpoint.events == ["post.created"]
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 64
    for page in (f"{ENDPOINTS}{endpoint.pk}/change/", ENDPOINTS):
        assert secret not in admin_client.get(page).content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://169.254.169.254/",
    ],
)
def test_private_receivers_are_refused_unless_allowed(admin_client, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    answer = add(admin_client, url=url)
    assert answer.status_code == 200 and "WEBHOOK_ALLOW_PRIVATE" in answer.content.decode()
    assert not Endpoint.objects.exists()
    with pytest.raises(RefusedAddress):
        check_url(url)
    settings.WEBHOOK_ALLOW_PRIVATE = True
    check_url(url)


def test_only_http_urls(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with pytest.raises(RefusedAddress):
        check_url("file:///etc/passwd")


def test_rotation_signs_with_both_secrets_until_the_old_one_expires(admin_client):
    endpoint = Endpoint.objects.create(
        url="https://hooks.example.com/", events=["post.created"], secret=new_secret()
    )
    old = endpoint.secret
    answer = admin_client.post(ENDPOINTS, {"action": "rotate_secret", "_selected_action": [endpoint.pk]})
    [new] = SECRET.findall(answer.content.decode())
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.previous_secret) == (new, old)
    signed = headers(webhook_id="msg_1", body="{}", keys=_keys_of(endpoint))
    for secret in (old, new):
        Webhook(secret).verify("{}", signed)
    endpoint.previous_secret_until = timezone.now() - timedelta(seconds=1)
    assert _keys_of(endpoint) == [new]


def _keys_of(endpoint: Endpoint) -> list[str]:
    return _keys(Delivery(endpoint=endpoint))


def test_changelist_shows_queue_depth_and_oldest_age(admin_client):
    Endpoint.objects.create(url="https://hooks.example.com/", events=["post.created"], secret=new_secret())
    with transaction.atomic():
        events.record("post.created", {"post_id": 1})
    page = admin_client.get(ENDPOINTS).content.decode()
    assert re.search(r"Queue: <strong>1</strong> undelivered;\s+oldest \d+ s old", page)


def test_send_again_makes_a_delivery_due_now(admin_client):
    Endpoint.objects.create(url="https://hooks.example.com/", events=["post.created"], secret=new_secret())
    with transaction.atomic():
        events.record("post.created", {"post_id": 1})
    Delivery.objects.update(
        status=Delivery.Status.FAILED, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    delivery = Delivery.objects.get()
    answer = admin_client.post(
        "/admin/webhooks/delivery/", {"action": "send_again", "_selected_action": [delivery.pk]}, follow=True
    )
    assert "1 delivery(ies) will be sent again now." in answer.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at <= timezone.now()
    assert delivery.give_up_at > timezone.now() + timedelta(hours=23)


def test_attempts_page_lists_attempts(admin_client):
    assert admin_client.get("/admin/webhooks/attempt/").status_code == 200


def test_tasks_cut_off_by_a_dead_worker_are_made_ready_again():
    from django.tasks import TaskResultStatus

    stale = DBTaskResult.objects.create(
        args_kwargs={"args": ["a@example.com"], "kwargs": {}},
        task_path="accounts.tasks.send_reset_mail",
        backend_name="default",
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=3),
    )
    running = DBTaskResult.objects.create(
        args_kwargs={"args": ["b@example.com"], "kwargs": {}},
        task_path="accounts.tasks.send_reset_mail",
        backend_name="default",
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now(),
    )
    assert requeue_cut_off_tasks() == 1
    stale.refresh_from_db()
    running.refresh_from_db()
    assert (stale.status, running.status) == (TaskResultStatus.READY, TaskResultStatus.RUNNING)

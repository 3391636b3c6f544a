"""Fixtures for the account tests: a real SMTP server, and the `server` under gunicorn sending
its mail there."""

import email
import email.policy
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from testing.net import free_port
from testing.worker import Worker, worker


class Mailbox:
    """What the SMTP server received: one parsed message per mail, in order of arrival."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 15) -> list[EmailMessage]:
        """The first `count` messages, once they have arrived; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} mail(s) arrived, not {count}"
                self.arrived.wait(left)
            return list(self.messages[:count])


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[Controller]:
    """An SMTP server on a free port of 127.0.0.1 (aiosmtpd), for the module's tests."""
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp_server_on() -> Iterator[Callable[[int], Controller]]:
    """Start an SMTP server (aiosmtpd, with a Mailbox) on a given port of 127.0.0.1, stopped
    after the test: for a mail server that comes up late."""
    started: list[Controller] = []

    def start(port: int) -> Controller:
        controller = Controller(Mailbox(), hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    """The SMTP server's mailbox, emptied for this test."""
    smtp_server.handler.messages.clear()
    return smtp_server.handler


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings) -> None:
    """In this process a task runs when it is enqueued (Django's ImmediateBackend), so the
    in-process tests see the reset mail without a worker; the tests over HTTP use a real one."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def mail_worker(smtp_server, server_env, transactional_db) -> Iterator[Worker]:
    """The background worker (``manage.py worker``) sending its mail to the SMTP server."""
    with worker({k: v for k, v in server_env.items() if k != "WEB_CONCURRENCY"}) as running:
        yield running


@pytest.fixture
def mail_settings(settings, smtp_server) -> None:
    """This process sends its mail to the test's SMTP server too."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": smtp_server.hostname, "port": smtp_server.port, "timeout": 10},
        }
    }


@pytest.fixture(scope="module")
def server_env(smtp_server) -> dict[str, str]:
    """The accounts tests' `server` (testing/plugin.py) mails through the SMTP server, with
    three workers. Failed logins are not limited here (the limits have tests of their own)."""
    return {
        "EMAIL_HOST": smtp_server.hostname,
        "EMAIL_PORT": str(smtp_server.port),
        "DEFAULT_FROM_EMAIL": "accounts@example.com",
        "LOGIN_FAILURE_RATE": "1000/minute",
        "PASSWORD_RESET_RATE": "1000/minute",
        "PASSWORD_RESET_EMAIL_RATE": "1000/minute",
        "WEB_CONCURRENCY": "3",
    }

"""Without an SMTP server the reset mail goes to the log, and no live token with it unless DEBUG
is on (config/mail.py): a real gunicorn takes the request, a real worker (``manage.py worker``)
writes the mail to its log."""

import json
import re
import time

import pytest
from django.contrib.auth.tokens import default_token_generator

from testing.servers import gunicorn
from testing.worker import worker

pytestmark = pytest.mark.django_db(transaction=True)

# Limits lifted, EMAIL_HOST unset (compose's default): the mail is written to the log.
ENV = {"EMAIL_HOST": "", "PASSWORD_RESET_RATE": "1000/minute", "PASSWORD_RESET_EMAIL_RATE": "1000/minute"}
# Anything shaped like one of Django's password reset tokens: base 36 time, "-", hex hash.
TOKEN = re.compile(r"\b[0-9a-z]{1,13}-[0-9a-f]{20,}\b")


def logged_mail(debug: str, user) -> str:
    """Ask for a reset over HTTP with DEBUG set to `debug` in the server and the worker; the
    worker's log once the mail is in it."""
    env = {**ENV, "DEBUG": debug}
    with gunicorn(env, workers=1) as server, worker(env) as running:
        body = json.dumps({"email": user.email})
        answer = server.request("POST", "/password-reset", body, {"Content-Type": "application/json"})
        assert answer.status == 202
        deadline = time.monotonic() + 30
        while f"To: {user.email}" not in running.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        return running.log.read_text() + server.log()


def test_without_an_smtp_server_no_live_token_reaches_any_log(user):
    logs = logged_mail("false", user)
    assert f"To: {user.email}" in logs
    assert "body withheld" in logs
    assert not [t for t in TOKEN.findall(logs) if default_token_generator.check_token(user, t)]
    # DEBUG on, the explicit local-development mode: the same search finds the live token.
    logs = logged_mail("true", user)
    assert [t for t in TOKEN.findall(logs) if default_token_generator.check_token(user, t)]

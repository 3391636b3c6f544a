"""Safe retries of POST: the `Idempotency-Key` header (IETF draft-ietf-httpapi-idempotency-key-
header; docs/api.md, "HTTP semantics"), for `POST /posts/`, `POST /vote/` and `POST /users/`.

The first request with a key claims it: it inserts the (caller, key) row in a transaction of
its own, committed at once, so that a retry arriving meanwhile sees it and answers 409. The
first request's work and the storing of its answer are then one transaction, which holds the
claim's row locked (``SELECT ... FOR UPDATE``): either both happen or neither, so a retry can
never replay an answer whose post was not kept, nor find a post with no answer stored.

A claim without an answer whose row is not locked belongs to a request that ended without
one (its worker killed, its connection to the database lost, the database restarted): the
database released the lock with that request's transaction, so the next retry takes the key
over at once instead of answering 409. A request whose claim was taken over that way before it
locked it answers 409 and does nothing. A retry within `TTL` with the same body gets the stored answer back
with `Idempotent-Replayed: true`; with another body, 422.

Answers that did nothing (a validation error, a too-large or unreadable body) are not stored:
the key is released and the client may send a corrected request with it.
"""

import functools
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Concatenate

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Now
from django.http import HttpResponse
from django.utils.crypto import salted_hmac
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import Conflict, RequestValidationError
from api.models import IdempotencyKey
from api.throttling import client_address

HEADER = "Idempotency-Key"
# Its name in the WSGI environ (read there: ``request.headers`` would first map every header).
META_KEY = "HTTP_IDEMPOTENCY_KEY"
REPLAYED = "Idempotent-Replayed"
TTL = timedelta(hours=24)
# A claim still unanswered after this long belongs to a request whose worker died (gunicorn
# kills one after its 30 s timeout); its transaction was rolled back, so the key is free again.
ABANDONED_AFTER = timedelta(minutes=5)
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
REUSED = "Idempotency-Key reused with a different request"
IN_PROGRESS = "A request with this Idempotency-Key is in progress"
# Answers that changed nothing and say so: not stored, so the key can be used again.
NOT_STORED = {400, 401, 413, 415, 422, 429}


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = REUSED


def _valid_key(value: str) -> bool:
    return 1 <= len(value) <= 255 and all(0x21 <= ord(char) <= 0x7E for char in value)


def caller_of(request: Request) -> str:
    """Whose key space a request's key lives in: its user, or for a signup its client address."""
    user = request.user
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"address:{client_address(request)}"


def fingerprint_of(request: Request) -> str:
    """A keyed hash of the method, the path (either slash spelling) and the JSON body, with the
    body's keys sorted: the same request sent again, re-serialized by a client library, matches.
    Raises DRF's ParseError or UnsupportedMediaType for a body the route cannot read."""
    # ASCII escapes: a lone surrogate from a JSON "\ud800" escape has no UTF-8 encoding.
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"))
    message = f"{request.method} {request.path.rstrip('/')}\n{body}"
    return salted_hmac("api.idempotency", message, algorithm="sha256").hexdigest()


def _claim(caller: str, key: str, fingerprint: str) -> int | HttpResponse:
    """The id of a new claim of the key, or the stored answer to replay. Raises KeyReused (422)
    for another request's key, Conflict (409) while the first request is being answered."""
    for _ in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(caller=caller, key=key, fingerprint=fingerprint).pk
        except IntegrityError:
            pass
        existing = (
            IdempotencyKey.objects.filter(caller=caller, key=key)
            .annotate(expired=_older_than(TTL), abandoned=_older_than(ABANDONED_AFTER))
            .first()
        )
        if existing is None:  # released by its first request meanwhile
            continue
        if existing.expired:
            IdempotencyKey.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.status is None and (existing.abandoned or _unowned(existing.pk)):
            # Only while still unanswered: its request may have locked it since, and the DELETE
            # then waits for that request to commit its answer, which must stay.
            IdempotencyKey.objects.filter(
                pk=existing.pk, created_at=existing.created_at, status=None
            ).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise KeyReused()
        if existing.status is None or existing.body is None:  # one UPDATE sets both
            raise Conflict(IN_PROGRESS)
        replay = HttpResponse(bytes(existing.body), status=existing.status, content_type="application/json")
        replay.headers[REPLAYED] = "true"
        return replay
    raise Conflict(IN_PROGRESS)


def _unowned(claim: int) -> bool:
    """Whether a claim without an answer is locked by no transaction: the request that made it
    ended without an answer, and the key is free."""
    with transaction.atomic():
        unlocked = IdempotencyKey.objects.select_for_update(skip_locked=True).filter(pk=claim, status=None)
        return bool(list(unlocked.values_list("pk", flat=True)))


# Quoted: Django's ExpressionWrapper is generic to mypy only.
def _older_than(age: timedelta) -> "ExpressionWrapper[Q]":
    """True for a row created more than `age` ago, by the database's clock."""
    return ExpressionWrapper(Q(created_at__lt=Now() - age), output_field=BooleanField())


def idempotent[V: APIView, R: Request, **P](
    handler: Callable[Concatenate[V, R, P], HttpResponse],
) -> Callable[Concatenate[V, R, P], HttpResponse]:
    """Decorate a DRF view's POST handler so that it honours `Idempotency-Key`. The handler
    keeps its signature (its request may be an AuthenticatedRequest); it answers with an
    HttpResponse, since a replayed answer is the stored bytes, not a DRF Response.

    Runs after authentication and throttling (DRF's `initial`). A key that is not 1-255 visible
    ASCII characters is a 422 at ``["header", "Idempotency-Key"]``."""

    @functools.wraps(handler)
    def wrapper(view: V, request: R, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        key = request.META.get(META_KEY)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not _valid_key(key):
            raise RequestValidationError(
                {HEADER: ["Must be 1 to 255 visible ASCII characters"]}, location="header"
            )
        claim = _claim(caller_of(request), key, fingerprint_of(request))
        if isinstance(claim, HttpResponse):
            return claim
        stored = False
        try:
            with transaction.atomic():
                # Held until this transaction ends, however it ends (see the module docstring).
                if not list(IdempotencyKey.objects.select_for_update().filter(pk=claim).values_list("pk")):
                    raise Conflict(IN_PROGRESS)  # taken over by a retry before this locked it
                try:
                    response = handler(view, request, *args, **kwargs)
                except Exception as exc:
                    response = view.handle_exception(exc)
                if response.status_code in NOT_STORED or response.status_code >= 500:
                    transaction.set_rollback(True)
                else:
                    content = (
                        JSONRenderer().render(response.data)
                        if isinstance(response, Response)
                        else response.content
                    )
                    IdempotencyKey.objects.filter(pk=claim).update(status=response.status_code, body=content)
                    stored = True
        finally:
            if not stored:
                IdempotencyKey.objects.filter(pk=claim).delete()
        return response

    return wrapper

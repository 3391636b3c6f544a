"""Conditional requests (RFC 9110 §13): strong ETags on reads, `If-None-Match` → 304, and
`If-Match` on writes → 412 (docs/api.md, "HTTP semantics").

A read's ETag is a hash of the exact bytes of its body, so two answers share an ETag only if
their bodies are byte for byte the same (a strong validator). A write compares `If-Match` with
the ETag that `GET` of the same resource would give at that moment, computed from the row the
write has locked (``SELECT ... FOR UPDATE``), so the comparison and the write are one atomic
step: of two writers holding the same ETag, the second waits for the first, then sees the new
ETag and gets the 412.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

SAFE_METHODS = ("GET", "HEAD")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "Precondition Failed"


def etag_of(content: bytes) -> str:
    """A strong ETag (a quoted 32-hex-digit BLAKE2b hash) for a body's exact bytes."""
    return f'"{hashlib.blake2b(content, digest_size=16).hexdigest()}"'


def etag_of_data(data: Any) -> str:
    """The ETag of the body a read answers with `data` by default (JSON as DRF renders it with
    no media-type parameters, i.e. what `GET` sends without `Accept: ...; indent=`)."""
    return etag_of(JSONRenderer().render(data))


def has_if_match(request: Request) -> bool:
    """Whether the request carries an `If-Match` condition. An empty or unparsable header is
    none, as Django's own conditional-view tools read it."""
    return bool(parse_etags(request.META.get("HTTP_IF_MATCH", "")))


def require_if_match(request: Request, current_etag: str) -> None:
    """Raise PreconditionFailed (412) unless `If-Match` is absent, ``*``, or lists
    `current_etag`. Strong comparison, as RFC 9110 §13.1.1 requires: a weak ETag never matches."""
    etags = parse_etags(request.META.get("HTTP_IF_MATCH", ""))
    if not etags or etags == ["*"]:
        return
    if current_etag not in etags:
        raise PreconditionFailed()


def mark_private(request: Request, response: Response) -> None:
    """An answer that depends on who asks: `Cache-Control: private` (no shared cache keeps it)
    and `Vary: Authorization` (a browser cache keeps one copy per token)."""
    if request.method in SAFE_METHODS:
        if "Cache-Control" in response.headers:
            patch_cache_control(response, private=True)
        else:  # the usual case, without parsing a header that is not there
            response.headers["Cache-Control"] = "private"
        patch_vary_headers(response, ("Authorization",))


# A mixin for APIView subclasses; to mypy it is one, so its super() calls are checked.
if TYPE_CHECKING:
    _ViewBase = APIView
else:
    _ViewBase = object


class ConditionalReads(_ViewBase):
    """A view mixin: each 200 answer to GET or HEAD carries a strong ETag of its body, and a
    request whose `If-None-Match` lists it (or ``*``) gets 304 with no body, keeping the headers
    RFC 9110 §15.4.5 asks for (ETag, Cache-Control, Vary) and the 200's Content-Length. Django's
    ``get_conditional_response`` decides, so `If-Match` on a read works as RFC 9110 says (412)."""

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in SAFE_METHODS or response.status_code != status.HTTP_200_OK:
            return response
        if hasattr(response, "render"):
            response.render()
        etag = etag_of(response.content)
        response.headers["ETag"] = etag
        conditional = get_conditional_response(request, etag=etag, response=response)
        if conditional is None or conditional is response:  # None only when given no response
            return response
        if conditional.status_code == status.HTTP_412_PRECONDITION_FAILED:
            refusal = Response({"detail": PreconditionFailed.default_detail}, status=412)
            return super().finalize_response(request, refusal, *args, **kwargs)
        # A 304 has no body; its Content-Length, if any, must be the 200's (RFC 9110 §8.6).
        # Said here, or CommonMiddleware would write the empty body's 0.
        conditional.headers["Content-Length"] = str(len(response.content))
        # Django's 304 (an HttpResponseNotModified): DRF hands on any HttpResponse a view's
        # finalize_response returns, though its stubs declare a Response.
        return conditional  # type: ignore[return-value]


if TYPE_CHECKING:
    from rest_framework import generics, mixins

    class _WritesBase(mixins.UpdateModelMixin, mixins.DestroyModelMixin, generics.GenericAPIView[Any]):
        pass
else:
    _WritesBase = object


class ConditionalWrites(_WritesBase):
    """A view mixin for UpdateModelMixin and DestroyModelMixin: PUT, PATCH and DELETE honour
    `If-Match` (412 when it does not list the ETag GET would give now), checked after 404, 403
    and 422. With `If-Match` the read, the comparison and the write are one transaction, the
    object read ``FOR UPDATE``; without it a write runs as any other, with no lock.

    The view gives ``current_etag(instance)``: the ETag its GET answers for the instance (for a
    GET served as ``ReadSerializer(instance).data``, ``etag_of_data(ReadSerializer(instance).data)``).
    """

    #: True while a write that carries If-Match runs: get_queryset() then locks what it reads.
    lock_object = False

    def current_etag(self, instance: Any) -> str:
        raise NotImplementedError

    def get_queryset(self) -> Any:
        """DRF's, locked (``locked``); a view with a get_queryset of its own calls ``locked``."""
        return self.locked(super().get_queryset())

    def locked(self, queryset: Any) -> Any:
        """`queryset` read FOR UPDATE (its own rows) while a conditional write runs."""
        return queryset.select_for_update(of=("self",)) if self.lock_object else queryset

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """PUT, and PATCH through DRF's partial_update, as one conditional write."""
        with self.conditional_write(request):
            return super().update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """DELETE as one conditional write."""
        with self.conditional_write(request):
            return super().destroy(request, *args, **kwargs)

    def perform_update(self, serializer: Any) -> None:
        """Once the body is valid: 412 for a stale If-Match, else the mixin's save."""
        self.check_if_match(serializer.instance)
        super().perform_update(serializer)

    def perform_destroy(self, instance: Any) -> None:
        """412 for a stale If-Match, else the mixin's delete."""
        self.check_if_match(instance)
        super().perform_destroy(instance)

    @contextmanager
    def conditional_write(self, request: Request) -> Iterator[None]:
        """With `If-Match`, the ``with`` block is one transaction in which the object is read
        locked (FOR UPDATE), compared and written: the check and the write are one atomic step."""
        self.lock_object = has_if_match(request)
        with transaction.atomic() if self.lock_object else nullcontext():
            yield

    def check_if_match(self, instance: Any) -> None:
        """412 unless `If-Match` holds the ETag GET would give now (only when it was sent)."""
        if self.lock_object:
            require_if_match(self.request, self.current_etag(instance))

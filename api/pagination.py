"""Keyset paging on DRF's ``pagination_class`` hook: a list view gets the contract's paging by
declaring it (docs/api.md, "HTTP semantics").

    class CommentViewSet(mixins.ListModelMixin, EndpointViewSet):
        pagination_class = KeysetPagination
        ordering = Ordering("new", ("created_at", "id"))
        queryset = Comment.objects.all()

gives ``?limit`` (default 10, above 100 gives 100, 0 gives ``[]``), ``?skip``, ``?cursor``
(signed, valid only on the list and ordering that issued it), each refused with the contract's
422 at ``["query", name]``; the ``Link`` header's ``rel="next"``/``rel="prev"``; and with
``Prefer: count=exact``, ``X-Total-Count`` and ``Preference-Applied``. A view with several
orders declares ``orderings`` (name → Ordering) and a ``query_serializer_class`` holding a
``sort`` choice; other parameters of that serializer (a search...) are the view's
``filter_queryset``'s to read from ``view.list_params``, and are kept in the links.

A list that clients poll sets ``poll_next`` (its last page still carries ``rel="next"``: the
rows after it) or ``poll_prev`` (its first page carries ``rel="prev"``: the rows before it,
newer ones) on a subclass, so a client can poll for what is added. A query serializer without
``skip`` makes a list that ignores it; ``counts = False``, one that ignores ``Prefer:
count=exact``. A list whose query picks one of several lists (the replies of one comment,
``?parent_id=N``) names those parameters in ``scope_parameters``: its cursors are then bound to
their values too.
"""

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from rest_framework import mixins, serializers
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from api.endpoints import parse_query
from api.errors import RequestValidationError
from api.fields import BIGINT_MAX, StrictIntegerField
from api.paging import (
    NEXT,
    PREV,
    Cursor,
    CursorField,
    Ordering,
    Page,
    keyset_page,
    link_header,
    prefers_exact_count,
)

PAGE_DEFAULT = 10
PAGE_MAX = 100
# Parameters of the paging itself: links carry a cursor of their own instead of them.
PAGING_PARAMETERS = ("skip", "cursor")


class PageQuerySerializer(serializers.Serializer):
    """``limit``, ``skip`` and ``cursor``: the paging query of a list with one order. A view's
    own query serializer adds its parameters to these (subclass it), ``sort`` among them when
    the list has several orders."""

    limit = StrictIntegerField(min_value=0, max_value=BIGINT_MAX, default=PAGE_DEFAULT)
    skip = StrictIntegerField(min_value=0, max_value=BIGINT_MAX, default=0)
    cursor = CursorField(required=False, default=None)

    def validate_limit(self, value: int) -> int:
        """Above PAGE_MAX gives PAGE_MAX, as the original API does."""
        return min(value, PAGE_MAX)


class KeysetPagination(BasePagination):
    """Keyset (cursor) paging with the contract's query, links and counts; see the module
    docstring for what a view declares. ``paginate_queryset`` raises the contract's 422
    (api.errors.RequestValidationError) for a bad query."""

    poll_next = False
    poll_prev = False
    #: False: ``Prefer: count=exact`` is ignored (a list whose count no client needs, e.g. a feed).
    counts = True
    #: Query parameters that pick the list itself (not a filter of it): a cursor is bound to them.
    scope_parameters: tuple[str, ...] = ()
    #: The body is the page's rows, unwrapped (api.autoschema documents it as the plain array).
    body_is_page = True

    def __init__(self) -> None:
        self.request: Request | None = None
        self.page: Page[Any] | None = None
        self.count: Callable[[], int] | None = None

    # -- the query

    @staticmethod
    def query_serializer(view: Any) -> type[serializers.Serializer]:
        """The list's query: the view's ``query_serializer_class``, else PageQuerySerializer."""
        return getattr(view, "query_serializer_class", PageQuerySerializer)

    def parse_query(self, request: Request, view: Any) -> dict[str, Any]:
        """The list's validated query (``view.query_serializer_class``, else
        PageQuerySerializer), kept as ``view.list_params``; a cursor must belong to this list
        (``list_scope``) and to the requested order."""
        serializer_class = self.query_serializer(view)
        params = request.query_params
        key = tuple((name, params.get(name)) for name in params if name != "cursor")
        if "cursor" in params:
            query = _parsed_with_cursor(serializer_class, key, params.get("cursor"))
        else:
            query = dict(_parsed(serializer_class, key))
        cursor: Cursor | None = query.get("cursor")
        ordering = self.get_ordering(view, query)
        scope = self.scope(request, query)
        if cursor is not None and (cursor.ordering != ordering.name or cursor.scope != scope):
            # The contract's words for another order's cursor; another list's is simply invalid.
            detail = (
                f"This cursor belongs to sort={cursor.ordering}"
                if cursor.scope == scope
                else "Invalid cursor"
            )
            raise _query_error({"cursor": [detail]})
        view.list_params = query
        return query

    def scope(self, request: Request, query: Mapping[str, Any]) -> str:
        """What the list's cursors are bound to: its route (``list_scope``) and the values of
        its ``scope_parameters``."""
        scope = list_scope(request)
        for name in self.scope_parameters:
            scope += f";{name}={query.get(name)}"
        return scope

    @staticmethod
    def get_ordering(view: Any, query: Mapping[str, Any]) -> Ordering:
        """The view's ``orderings[query["sort"]]``, or its one ``ordering``."""
        orderings = getattr(view, "orderings", None)
        if orderings is not None:
            return orderings[query["sort"]]
        return view.ordering

    # -- DRF's hooks

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        """The page of `queryset` the request's query asks for, in the view's ordering (one query:
        it reads one row more than it returns, to know whether more follow)."""
        query = getattr(view, "list_params", None) or self.parse_query(request, view)
        ordering = self.get_ordering(view, query)
        page = keyset_page(
            queryset,
            ordering,
            cursor=query["cursor"],
            skip=query.get("skip", 0),
            limit=query["limit"],
        )
        return self.keep(request, view, page, lambda: queryset.count())

    def keep[M: Model](self, request: Request, view: Any, page: Page[M], count: Callable[[], int]) -> list[M]:
        """Remember `page` (read by the caller, e.g. a compiled fast path) for the response's
        headers; `count` gives X-Total-Count when it is asked for. Returns the page's rows."""
        self.request, self.view, self.page, self.count = request, view, page, count
        return page.rows

    def get_paginated_response(self, data: Any) -> Response:
        """The page's rows as the body (unchanged: a JSON array), with the paging headers."""
        return Response(data, headers=self.get_headers())

    def get_headers(self) -> dict[str, str]:
        """``Link`` (rel next/prev), and ``X-Total-Count`` with ``Preference-Applied`` when the
        request's ``Prefer`` holds ``count=exact`` (RFC 7240)."""
        if self.request is None or self.page is None or self.count is None:
            raise RuntimeError("get_paginated_response() before paginate_queryset()")
        request, page, query = self.request, self.page, self.view.list_params
        ordering = self.get_ordering(self.view, query)
        headers = {}
        keep = {
            name: request.query_params[name]
            for name in request.query_params
            if name not in PAGING_PARAMETERS and name in query
        }
        if self.poll_next and page.rows:
            page = Page(page.rows, has_next=True, has_prev=page.has_prev)
        first = query["cursor"] is None and query.get("skip", 0) == 0
        if self.poll_prev and page.rows and first:
            page = Page(page.rows, has_next=page.has_next, has_prev=True)
        poll_empty = self.poll_prev and first and not page.rows
        if link := link_header(
            request, page, ordering, keep, scope=self.scope(request, query), poll_empty=poll_empty
        ):
            headers["Link"] = link
        if self.counts and prefers_exact_count(request):
            headers["X-Total-Count"] = str(self.count())
            headers["Preference-Applied"] = "count=exact"
        return headers

    # The list's parameters are documented by its view (extend_schema's ``parameters``, from its
    # query serializer): nothing for drf-spectacular to add.
    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return []


def list_scope(request: Request) -> str:
    """What a cursor is bound to: the list's route and its URL arguments (the post whose
    comments they are...), not its query."""
    match = request.resolver_match
    if match is None:
        return request.path
    arguments = ",".join(f"{name}={value}" for name, value in sorted(match.kwargs.items()))
    return f"{match.view_name}:{arguments}"


@lru_cache(maxsize=256)
def _parsed(
    serializer_class: type[serializers.Serializer], key: tuple[tuple[str, Any], ...]
) -> dict[str, Any]:
    """parse_query's answer for a query without a cursor, cached: the same parameters validate
    to the same values (a 422 is raised again each time, never cached). Callers copy it."""
    return parse_query(serializer_class, dict(key))


def _parsed_with_cursor(
    serializer_class: type[serializers.Serializer], key: tuple[tuple[str, Any], ...], cursor: Any
) -> dict[str, Any]:
    """parse_query's answer for a query with a cursor: the other parameters from the cache
    (``_parsed``), the cursor checked on each request (its signature is the server's key's;
    never cached) by the class's own field, then its ``validate_cursor`` hook, the serializer's
    validators and its ``validate``, as DRF runs them (``validate`` runs on the cached values
    too: it must read only its argument, as every query serializer's does). Any refusal parses
    the whole query again, so that the 422 lists every parameter's error as the serializer
    gives it. A serializer without a ``cursor`` field ignores the parameter, as DRF does."""
    prototype = _prototype(serializer_class)
    if "cursor" not in prototype.fields:
        return dict(_parsed(serializer_class, key))
    try:
        query = dict(_parsed(serializer_class, key))
        value = prototype.fields["cursor"].run_validation(cursor)
        if hook := getattr(prototype, "validate_cursor", None):
            value = hook(value)
        query["cursor"] = value
        prototype.run_validators(query)
        return prototype.validate(query)
    except (RequestValidationError, serializers.ValidationError, DjangoValidationError):
        return dict(parse_query(serializer_class, {**dict(key), "cursor": cursor}))


@lru_cache(maxsize=64)
def _prototype(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """One instance of `serializer_class` per process, its fields bound once (DRF deep-copies
    every declared field for each instance): its fields, validators and hooks hold no state of
    a request, so threads share it. What DRF makes on first use is made here, before threads
    share it: the bound fields, the serializer's validators, and each field's validator
    messages (DRF's ``lazy_format`` formats itself on first use, which two threads must not do
    at once)."""
    prototype = serializer_class()
    prototype.validators  # noqa: B018
    for field in prototype.fields.values():
        for validator in field.validators:
            str(getattr(validator, "message", ""))
    return prototype


def _query_error(detail: dict[str, list[str]]) -> Exception:
    return RequestValidationError(detail, location="query")


__all__ = ["NEXT", "PREV", "KeysetPagination", "PageQuerySerializer"]


if TYPE_CHECKING:
    from rest_framework import generics

    class _ListBase(mixins.ListModelMixin, generics.GenericAPIView[Any]):
        pass
else:
    _ListBase = mixins.ListModelMixin


class CompiledPagesMixin(_ListBase):
    """ListModelMixin for a list whose pages come from a compiled read (api/compiled.py's
    CompiledPages) instead of a QuerySet built per request. The view declares
    ``compiled_page(ordering, query) -> api.paging.Page`` (`query`: the parsed list query,
    ``view.list_params``), which must give what KeysetPagination gives for the view's
    ``filter_queryset(get_queryset())`` for every query (cursor, skip, limit and the view's own
    parameters; a test should hold the two equal). The count of ``Prefer: count=exact`` is the
    QuerySet's (``exact_count``)."""

    paginator: KeysetPagination

    def compiled_page(self, ordering: Ordering, query: dict[str, Any]) -> Page[Any]:
        raise NotImplementedError

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        paginator = self.paginator
        # Parsed once per request: a view's own list() may have read it already (a cursor's
        # signature is checked and its position read in that parse).
        query = getattr(self, "list_params", None) or paginator.parse_query(request, self)
        page = self.compiled_page(paginator.get_ordering(self, query), query)
        rows = paginator.keep(request, self, page, self.exact_count)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def exact_count(self) -> int:
        """The rows of the whole list, for ``Prefer: count=exact``: those of
        ``filter_queryset(get_queryset())``."""
        return self.filter_queryset(self.get_queryset()).count()

"""Keyset paging with opaque cursors, and the RFC 8288 `Link` header that carries them.

A page is read straight off an index: the rows after (or before) the last row a client saw,
in the list's own order, so a page a million rows deep costs what the first one costs, and
rows added or deleted meanwhile never shift a later page (no repeats, no gaps). An ordering
runs all its columns one way, descending (newest first) or ascending (oldest first), so one SQL
row comparison selects the rows after a position and PostgreSQL reads them off the matching
index (posts' `post_newest_first` and `post_most_voted_first`, comments' `comment_thread`).

A cursor is the position (the last or first row's key values), the ordering it belongs to and
the direction, signed with SECRET_KEY (django.core.signing): a client cannot forge or alter
one, and one from another ordering or server is refused with the contract's 422 at
``["query", "cursor"]`` (docs/api.md, "HTTP semantics").
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlencode

from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import BooleanField, Field, Model, QuerySet
from django.db.models.expressions import RawSQL
from rest_framework import serializers
from rest_framework.request import Request

from api.fields import StrictCharField

SALT = "api.paging.cursor"
NEXT, PREV = "next", "prev"
CURSOR_MAX_LENGTH = 500


@dataclass(frozen=True)
class Ordering:
    """A list order: model fields, every one descending (or every one ascending, with
    ``ascending=True``), the last one unique (the tie-break)."""

    name: str
    fields: tuple[str, ...]
    ascending: bool = False

    @property
    def order_by(self) -> list[str]:
        """The fields as ``QuerySet.order_by`` takes them, in the list's order."""
        return list(self.fields) if self.ascending else [f"-{name}" for name in self.fields]

    @property
    def reversed_order_by(self) -> list[str]:
        """The opposite order (a page read backwards from a position)."""
        return [f"-{name}" for name in self.fields] if self.ascending else list(self.fields)

    def values(self, row: Model) -> list[Any]:
        return [getattr(row, name) for name in self.fields]


# Quoted: Django's Field is generic to mypy only.
def model_field(model: type[Model], name: str) -> "Field[Any, Any]":
    """The model's field `name`. An ordering names columns of the model itself, never a
    relation's reverse side, which get_field() may also return."""
    return cast("Field[Any, Any]", model._meta.get_field(name))


@dataclass(frozen=True)
class Cursor:
    ordering: str
    direction: str  # NEXT: the rows after the position; PREV: the rows before it
    position: tuple[Any, ...]
    scope: str | None = None  # the list that issued it (api.pagination.list_scope)


@dataclass
class Page[M: Model]:
    rows: list[M]
    has_next: bool
    has_prev: bool


def encode_cursor(ordering: Ordering, direction: str, row: Model, scope: str | None = None) -> str:
    """The signed, URL-safe cursor for the rows after (NEXT) or before (PREV) `row`, on the
    list `scope`."""
    values = [value.isoformat() if hasattr(value, "isoformat") else value for value in ordering.values(row)]
    return _encode(ordering, direction, values, scope)


def _encode(ordering: Ordering, direction: str, values: list[Any], scope: str | None) -> str:
    payload: dict[str, Any] = {"o": ordering.name, "d": direction, "p": values}
    if scope is not None:
        payload["s"] = scope
    return signing.dumps(payload, salt=SALT, compress=False)


class CursorField(StrictCharField):
    """A `cursor` query parameter: a signed cursor of one of `orderings`, as a Cursor.

    Raises the field's ValidationError (the contract's 422) for a cursor that is malformed, was
    not signed with this server's key, or belongs to no known ordering. Which ordering the
    request asks for is checked by the caller (`check_ordering`)."""

    default_error_messages = {"invalid_cursor": "Invalid cursor"}

    def __init__(
        self, *, model: type[Model] | None = None, orderings: Sequence[Ordering] = (), **kwargs: Any
    ) -> None:
        # Without a model and orderings (api.pagination's generic query) the position stays as
        # signed, and keyset_page reads it with its queryset's fields.
        kwargs.setdefault("max_length", CURSOR_MAX_LENGTH)
        kwargs.setdefault("help_text", "Opaque: copy it from a `Link` header of an earlier page.")
        super().__init__(**kwargs)
        self.model = model
        self.orderings = {ordering.name: ordering for ordering in orderings}

    # The parameter is read and checked as a string (StrictCharField), then becomes a Cursor.
    def to_internal_value(self, data: Any) -> Cursor:  # type: ignore[override]
        token = super().to_internal_value(data)
        super().run_validators(token)  # the string's length and characters
        try:
            payload = signing.loads(token, salt=SALT)
            if payload["d"] not in (NEXT, PREV) or not isinstance(payload["p"], list):
                raise ValueError("wrong shape")
            position = tuple(payload["p"])
            if self.model is not None and (position or payload["d"] != PREV):  # () : from the oldest row
                position = read_position(self.model, self.orderings[payload["o"]], position)
            scope = payload.get("s")
        except (signing.BadSignature, KeyError, TypeError, ValueError, DjangoValidationError):
            self.fail("invalid_cursor")
        return Cursor(str(payload["o"]), payload["d"], position, scope)

    def run_validators(self, value: Any) -> None:
        """Done on the string, in to_internal_value; the Cursor it becomes has no length."""


def read_position(model: type[Model], ordering: Ordering, position: tuple[Any, ...]) -> tuple[Any, ...]:
    """A signed position's values as the ordering's fields' Python values; raises ValueError
    (or Django's ValidationError) for one of another shape."""
    if len(position) != len(ordering.fields):
        raise ValueError("wrong shape")
    values = tuple(
        model_field(model, name).to_python(value)
        for name, value in zip(ordering.fields, position, strict=True)
    )
    if any(value is None for value in values):
        raise ValueError("missing value")
    return values


def check_ordering(cursor: Cursor | None, ordering: Ordering) -> None:
    """Refuse a cursor that belongs to another ordering than the one the request asks for."""
    if cursor is not None and cursor.ordering != ordering.name:
        raise serializers.ValidationError({"cursor": [f"This cursor belongs to sort={cursor.ordering}"]})


def after_position[M: Model](
    queryset: QuerySet[M], ordering: Ordering, position: tuple[Any, ...], direction: str
) -> QuerySet[M]:
    """Rows of `queryset` strictly after `position` in the ordering (`direction` NEXT), or
    strictly before it (PREV): one row comparison on the ordering's columns."""
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    columns = ", ".join(
        # An ordering's fields are concrete: each has a column.
        f"{table}.{connection.ops.quote_name(cast(str, model_field(queryset.model, name).column))}"
        for name in ordering.fields
    )
    placeholders = ", ".join(["%s"] * len(position))
    # After a position is below it in a descending order, above it in an ascending one.
    operator = "<" if (direction == NEXT) != ordering.ascending else ">"
    # One row comparison, not an OR of column comparisons: PostgreSQL turns it into an index
    # range scan that starts at the position. Column names come from the model, values are
    # parameters.
    condition = RawSQL(  # noqa: S611
        f"({columns}) {operator} ({placeholders})", position, output_field=BooleanField()
    )
    return queryset.filter(condition)


def keyset_page[M: Model](
    queryset: QuerySet[M], ordering: Ordering, *, cursor: Cursor | None, skip: int, limit: int
) -> Page[M]:
    """`limit` rows of `queryset` in `ordering`, from the cursor's position (or the start),
    after skipping `skip` rows. One query: it reads one row more than it returns, to know whether
    more follow."""
    if cursor is not None and cursor.direction == PREV and not cursor.position:
        # A polling link of an empty first page (link_header's `poll_empty`): the rows from the
        # far end of the list.
        rows = list(queryset.order_by(*ordering.reversed_order_by)[skip : skip + limit + 1])
        return Page(rows[:limit][::-1], has_next=False, has_prev=len(rows) > limit)
    if cursor is None:
        rows = list(queryset.order_by(*ordering.order_by)[skip : skip + limit + 1])
        return Page(rows[:limit], has_next=len(rows) > limit, has_prev=skip > 0)
    position = cursor_position(queryset.model, ordering, cursor)
    after = after_position(queryset, ordering, position, cursor.direction)
    if cursor.direction == NEXT:
        rows = list(after.order_by(*ordering.order_by)[skip : skip + limit + 1])
        return Page(rows[:limit], has_next=len(rows) > limit, has_prev=True)
    rows = list(after.order_by(*ordering.reversed_order_by)[skip : skip + limit + 1])
    return Page(rows[:limit][::-1], has_next=True, has_prev=len(rows) > limit)


def cursor_position(model: type[Model], ordering: Ordering, cursor: Cursor) -> tuple[Any, ...]:
    """The cursor's position as the ordering's fields' Python values (read_position); raises the
    contract's 422 at ``["query", "cursor"]`` for one that does not fit them."""
    try:  # done already when the query's CursorField knew the model; then a no-op
        return read_position(model, ordering, cursor.position)
    except (TypeError, ValueError, DjangoValidationError) as exc:
        from api.errors import RequestValidationError  # api.errors reads settings' modules

        raise RequestValidationError({"cursor": ["Invalid cursor"]}, location="query") from exc


def link_header[M: Model](
    request: Request,
    page: Page[M],
    ordering: Ordering,
    keep: dict[str, Any],
    scope: str | None = None,
    *,
    poll_empty: bool = False,
) -> str | None:
    """RFC 8288 `Link` value with `rel="next"` and `rel="prev"` where they apply, or None.

    Each link is this request's absolute URL with the query parameters in `keep` and a cursor
    (`skip` and the old cursor are dropped). An empty page has no links: it holds no position;
    with `poll_empty` (an empty first page of a list polled for newer rows) it has a
    `rel="prev"` whose cursor reads from the oldest row (keyset_page)."""
    if not page.rows:
        if not poll_empty:
            return None
        query = urlencode({**keep, "cursor": _encode(ordering, PREV, [], scope)})
        return f'<{request.build_absolute_uri(request.path)}?{query}>; rel="{PREV}"'
    links = []
    url = None
    for rel, present, row, direction in (
        (NEXT, page.has_next, page.rows[-1], NEXT),
        (PREV, page.has_prev, page.rows[0], PREV),
    ):
        if present:
            url = url or request.build_absolute_uri(request.path)
            query = urlencode({**keep, "cursor": encode_cursor(ordering, direction, row, scope)})
            links.append(f'<{url}?{query}>; rel="{rel}"')
    return ", ".join(links) or None


def prefers_exact_count(request: Request) -> bool:
    """Whether the request's `Prefer` header (RFC 7240) holds the preference `count=exact`
    (PostgREST's name for it). Preferences are comma-separated, names case-insensitive, values
    optionally quoted; anything else in the header is ignored, as the RFC asks."""
    for header in request.META.get("HTTP_PREFER", "").split(","):
        name, _, value = header.split(";")[0].partition("=")
        if name.strip().lower() == "count" and value.strip().strip('"').lower() == "exact":
            return True
    return False

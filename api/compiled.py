"""Hot reads compiled from their QuerySets once per process, then run with new parameters.

Every authenticated request reads its user, and every list and get-one reads posts with their
owners. Through the ORM each request builds the same SQL again (a QuerySet clone, a WHERE tree,
the compiler), about half of those requests' CPU (bench/RESULTS.md). A ``CompiledQuery`` asks
the ORM's compiler once for the SQL of a QuerySet (built with stand-in values for its
parameters), keeps it, and runs it with the values of each call; the rows become instances as
the ORM makes them (``Model.from_db``, the compiler's database converters, ``select_related``
relations cached, annotations set as attributes). The QuerySet stays the one statement of the
rule: change it and the compiled SQL changes with it.

``CompiledExists`` does the same for ``QuerySet.exists()``, and ``CompiledPages`` for the pages
api.paging.keyset_page reads (first page, after or before a cursor), one compiled query per
shape.
"""

import contextlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

from api.paging import NEXT, PREV, Cursor, Ordering, Page, after_position, cursor_position

# Stand-ins for a query's parameters while it is compiled: integers no real value takes
# (ids are positive), each found again in the compiled parameters by equality.
_STAND_IN_BASE = -(2**62)


@dataclass(frozen=True)
class _Loader:
    """Makes one model's instance from its part of a row: ``start``/``stop`` the slice of the
    row's values, ``attnames`` what ``Model.from_db`` takes, ``related`` the select_related
    instances cached on it (their field's setter and loader)."""

    model: type[Model]
    start: int
    stop: int
    attnames: tuple[str, ...]
    related: tuple[tuple[Callable[[Model, Model | None], None], "_Loader"], ...]
    #: (name, position in the row, the compiler's converters for it, their expression) of the
    #: QuerySet's annotations, set as attributes as the ORM does.
    annotations: tuple[tuple[str, int, tuple[Any, ...], Any], ...] = ()

    #: Position in the row of the primary key: NULL there is a missing relation (an outer join).
    pk_position: int = 0
    #: Whether ``from_db`` may be skipped (``_plain_model``).
    plain: bool = False

    def load(self, alias: str, row: Sequence[Any]) -> Model:
        if self.plain and not pre_init.receivers and not post_init.receivers:
            instance = _from_db(self.model, alias, self.attnames, row[self.start : self.stop])
        else:
            instance = self.model.from_db(alias, self.attnames, row[self.start : self.stop])
        for set_cached, loader in self.related:
            # As the ORM's RelatedPopulator: no row on the other side of a nullable key is None.
            related = None if row[loader.pk_position] is None else loader.load(alias, row)
            set_cached(instance, related)
        for name, position, converters, expression in self.annotations:
            value = row[position]
            for convert in converters:
                value = convert(value, expression, connections[alias])
            setattr(instance, name, value)
        return instance


def _plain_model(model: type[Model]) -> bool:
    """Whether ``model.from_db(alias, every attname, a full row)`` does nothing but what
    ``_from_db`` does: Django's own ``from_db`` and ``__init__`` (no class of the model's
    defines another), and every field's attribute one that a value in the instance's
    ``__dict__`` is read through (Django's ``DeferredAttribute``; a foreign key's id, whose
    setter only drops a cached relation, which a new instance has not got)."""
    inits = [cls for cls in model.__mro__ if "__init__" in vars(cls) and cls not in (Model, object)]
    from_db = getattr(model.from_db, "__func__", None)
    return (
        not inits
        and from_db is Model.from_db.__func__  # type: ignore[attr-defined]
        and all(
            type(getattr(model, field.attname, None)) in _PLAIN_ATTRIBUTES
            for field in model._meta.concrete_fields
        )
    )


_PLAIN_ATTRIBUTES = (DeferredAttribute, ForeignKeyDeferredAttribute)


def _from_db(model: type[Model], alias: str, attnames: tuple[str, ...], values: Sequence[Any]) -> Model:
    """What ``model.from_db(alias, attnames, values)`` gives for a plain model (``_plain_model``),
    every attname given in field order, and no ``pre_init`` or ``post_init`` receiver: the
    instance's state, then its values, set straight into its ``__dict__`` in the order
    ``Model.__init__`` sets them."""
    instance = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = alias
    fields = instance.__dict__
    fields["_state"] = state
    fields.update(zip(attnames, values, strict=True))
    return instance


def _loader(klass_info: dict[str, Any], select: list[Any]) -> _Loader:
    """A _Loader from the compiler's ``klass_info`` (the model, the positions of its columns in
    the SELECT, and its select_related relations)."""
    positions = klass_info["select_fields"]
    start, stop = positions[0], positions[-1] + 1
    if list(positions) != list(range(start, stop)):
        raise ValueError("a model's columns are not contiguous in the compiled SELECT")
    attnames = tuple(select[index][0].target.attname for index in positions)
    model = klass_info["model"]
    if attnames != tuple(field.attname for field in model._meta.concrete_fields):
        # from_db() takes a full row in the model's field order; anything else is not a hot read.
        raise ValueError(f"{model.__name__}: the compiled SELECT is not every column in order")
    related = tuple(
        (info["local_setter"], _loader(info, select))
        for info in klass_info.get("related_klass_infos", [])
        if not info.get("reverse")
    )
    pk_position = start + attnames.index(model._meta.pk.attname)
    return _Loader(model, start, stop, attnames, related, pk_position=pk_position, plain=_plain_model(model))


class CompiledQuery[M: Model]:
    """A QuerySet's SQL, compiled by the ORM at first use and run with new values.

    ``build`` makes the QuerySet from the query's parameters, named by ``names`` (keyword
    arguments: ids, strings, or any value a lookup passes through unchanged). It is called with
    stand-in integers; each stand-in must reach the compiled SQL's parameters either as it was
    given (an ``=`` lookup on an id does) or as the text of a string parameter (``icontains``
    gives ``%stand-in%``), else ValueError. For a text one, a second compile with a probe value
    tells whether the lookup escapes ``%``, ``_`` and ``\\`` (``connection.ops.prep_for_like_query``)
    or passes the value through; each call's value is put in the same way. ``run(limit=..., offset=...)`` adds the LIMIT and OFFSET the ORM's compiler
    adds for a slice (``connection.ops.limit_offset_sql``). Rows are read from the router's
    database for the model, through Django's cursor (logged, counted by query-capturing tests).

    ``literal`` names a text parameter whose value is written into the SQL, quoted, instead of
    being sent as a parameter, for a query whose best plan depends on that value: each value is
    a statement of its own, planned for it (see ``_written_in``).
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *names: str, literal: str | None = None) -> None:
        self.build = build
        self.names = names
        self.literal = literal
        self._compiled: tuple[str, tuple[Any, ...], dict[int, _Slot], _Loader] | None = None
        self._around_literal: tuple[str, str, int] | None = None

    def queryset(self, **values: Any) -> QuerySet[M]:
        """The QuerySet this query compiles, for these values: what the ORM alone would run."""
        return self.build(**values)

    def compile(self) -> tuple[str, tuple[Any, ...], dict[int, "_Slot"], _Loader]:
        """(SQL, its parameters with stand-ins, {position: slot} of the stand-ins, loader),
        made once per process."""
        if self._compiled is None:
            queryset = self.build(**_stand_ins(self.names))
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
            slots = _slots(self.build, self.names, params, lambda qs: qs.query)
            converters = compiler.get_converters([column for column, _, _ in compiler.select])
            annotated = compiler.annotation_col_map
            if set(converters) - set(annotated.values()):
                # None for the built-in fields on PostgreSQL; a field with one is not a hot read.
                raise ValueError("the compiled SELECT has columns with database converters")
            loader = _loader(compiler.klass_info, compiler.select)
            annotations = []
            for name, index in annotated.items():
                functions, expression = converters.get(index, ([], None))
                annotations.append((name, index, tuple(functions), expression))
            self._compiled = (sql, tuple(params), slots, replace(loader, annotations=tuple(annotations)))
        return self._compiled

    def sql_with_params(
        self, *, limit: int | None = None, offset: int = 0, **values: Any
    ) -> tuple[str, list[Any]]:
        """The SQL and parameters ``run`` executes for these values."""
        sql, params, slots, loader = self.compile()
        args = _arguments(params, slots, values)
        if self.literal is not None:
            if self._around_literal is None:
                (index,) = (index for index, slot in slots.items() if slot.name == self.literal)
                self._around_literal = (*_around_placeholder(sql, index), index)
            before, after, index = self._around_literal
            alias = router.db_for_read(loader.model)
            sql = f"{before}{_written_in(args.pop(index), alias)}{after}"
        if limit is not None or offset:
            high = None if limit is None else offset + limit
            sql = f"{sql} {connections['default'].ops.limit_offset_sql(offset, high)}"
        return sql, args

    def run(self, *, limit: int | None = None, offset: int = 0, **values: Any) -> list[M]:
        """The instances of the query's rows for these values (as ``list(queryset)`` gives, or
        ``list(queryset[offset:offset + limit])``)."""
        sql, args = self.sql_with_params(limit=limit, offset=offset, **values)
        loader = self.compile()[3]
        alias = router.db_for_read(loader.model)
        # A statement with a value written in is left to psycopg's counting (and so prepared)
        # only once this process has run it a few times: see REPEATED.
        rare = self.literal is not None and not REPEATED.run_again(sql)
        connection = connections[alias]
        with connection.cursor() as cursor, unprepared(connection) if rare else contextlib.nullcontext():
            cursor.execute(sql, args)
            found = cursor.fetchall()
        return [loader.load(alias, row) for row in found]  # type: ignore[misc]


class RepeatedStatements:
    """Which statements this process has run at least ``times`` times, among the last
    ``remembered`` distinct ones (least recently run forgotten first).

    psycopg counts the runs of each statement on a connection, and prepares it on its sixth;
    it remembers 100 statements per connection, counted or prepared, the least recently run
    dropped first. A search's text is written into its statement (``_written_in``), and most
    texts are searched once: counted there, they would push out the counts of every statement
    that runs less often than a hundred new texts come (a post's comments, a vote), which would
    then never be prepared. So a statement with a value written in reaches psycopg's counting
    only once it is one of this process's repeated ones; until then it runs ``unprepared``."""

    def __init__(self, times: int, remembered: int) -> None:
        self.times = times
        self.remembered = remembered
        self._runs: OrderedDict[int, int] = OrderedDict()
        self._lock = threading.Lock()

    def run_again(self, sql: str) -> bool:
        """Counts one more run of `sql`; whether it has now been run at least ``times`` times."""
        key = hash(sql)
        with self._lock:
            runs = self._runs.pop(key, 0) + 1
            self._runs[key] = runs
            if len(self._runs) > self.remembered:
                self._runs.popitem(last=False)
        return runs >= self.times


#: A search's statement is left to psycopg's counting once this process has run it 5 times
#: among its last 1,000 distinct ones.
REPEATED = RepeatedStatements(times=5, remembered=1000)


@contextlib.contextmanager
def unprepared(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """No statement run on `connection` in the block is prepared, nor counted by psycopg
    towards being prepared: each is planned for its own parameters, and psycopg's memory of the
    connection's statements is left as it was."""
    connection.ensure_connection()
    raw = connection.connection
    threshold = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = threshold


def _written_in(value: str, alias: str) -> str:
    """`value` as a quoted SQL string literal for the database `alias`, ready to stand in the
    SQL where a ``%s`` stood (its ``%`` doubled, as the driver reads them).

    Why a search's text is written into its statement: psycopg prepares a statement on its sixth
    run on a connection (environment/databases.py), and PostgreSQL then keeps one generic plan
    once it costs no more than the plans so far did on average. With the text a parameter, every
    search on a connection shared that plan: after a few searches that read every title (``~``:
    a full scan, the highest cost), the generic plan (walk the newest-first index, test each
    title) won, and from then on every search on that connection walked the table when it
    matched few titles (700 ms at a million posts for one the trigram index answers in 1 ms):
    one user's searches made everyone's expensive. With the text in the SQL, each text is its
    own statement: its plans are made for that text (the generic one included, since the text
    is not a parameter of it), and one searched again and again is prepared on each connection
    (``RepeatedStatements``) and then planned once, not at each run (about 0.3 ms of the
    database's time at a million posts), as the list is."""
    # compose_sql: the PostgreSQL backend's quoting, psycopg's, with the connection's settings.
    quoted: str = connections[alias].ops.compose_sql("%s", [value])  # type: ignore[attr-defined]
    return quoted.replace("%", "%%")


def _around_placeholder(sql: str, index: int) -> tuple[str, str]:
    """(the SQL before, the SQL after) its `index`-th ``%s`` placeholder (from 0; ``%%`` is a
    written ``%``, not a placeholder). ValueError when it has fewer."""
    parts = re.split(r"(%%|%s)", sql)
    placeholders = [position for position, part in enumerate(parts) if part == "%s"]
    if index >= len(placeholders):
        raise ValueError(f"the SQL has no placeholder {index}")
    position = placeholders[index]
    return "".join(parts[:position]), "".join(parts[position + 1 :])


@dataclass(frozen=True)
class _Slot:
    """Where a parameter's value goes in the compiled parameters: as given, or inside a string
    (``prefix + value + suffix``), LIKE-escaped when the lookup escapes it."""

    name: str
    text: bool = False
    prefix: str = ""
    suffix: str = ""
    escape: bool = False

    def value(self, given: Any) -> Any:
        if not self.text:
            return given
        if self.escape:
            given = connections["default"].ops.prep_for_like_query(given)
        return f"{self.prefix}{given}{self.suffix}"


# A value a lookup escapes differently from one it passes through (LIKE's special characters).
_PROBE = "%_\\"


def _stand_ins(names: Sequence[str]) -> dict[str, int]:
    return {name: _STAND_IN_BASE - index for index, name in enumerate(names)}


def _slots(
    build: Callable[..., Any], names: Sequence[str], params: Sequence[Any], query_of: Callable[[Any], Any]
) -> dict[int, _Slot]:
    """{position: slot} of each name's stand-in in `params` (the compiled parameters of
    ``build(**stand-ins)``); ValueError unless each name is exactly one parameter."""
    stand_ins = _stand_ins(names)
    by_value = {value: name for name, value in stand_ins.items()}
    slots: dict[int, _Slot] = {}
    for index, value in enumerate(params):
        # An int, or psycopg's Int4 (an int) that Django writes for a Value() on PostgreSQL.
        if isinstance(value, int) and value in by_value:
            slots[index] = _Slot(by_value[value])
        elif isinstance(value, str):
            for name, stand_in in stand_ins.items():
                prefix, found, suffix = value.partition(str(stand_in))
                if found:
                    slots[index] = _Slot(name, text=True, prefix=prefix, suffix=suffix)
    if sorted(slot.name for slot in slots.values()) != sorted(names):
        raise ValueError(f"each of {tuple(names)} must be one parameter of the compiled SQL")
    texts = {index: slot for index, slot in slots.items() if slot.text}
    if texts:
        # How the lookup writes a value: compile once more with the probe after each stand-in.
        probes = {**stand_ins, **{slot.name: f"{stand_ins[slot.name]}{_PROBE}" for slot in texts.values()}}
        query = query_of(build(**probes))
        _, probed = query.get_compiler(using="default").as_sql()
        escaped = connections["default"].ops.prep_for_like_query(_PROBE)
        for index, slot in texts.items():
            head = f"{slot.prefix}{stand_ins[slot.name]}"
            if probed[index] == f"{head}{_PROBE}{slot.suffix}":
                continue
            if probed[index] != f"{head}{escaped}{slot.suffix}":
                raise ValueError(f"{slot.name}: the lookup changes the value in a way not known here")
            slots[index] = replace(slot, escape=True)
    return slots


def _arguments(params: Sequence[Any], slots: dict[int, _Slot], values: dict[str, Any]) -> list[Any]:
    return [
        slots[index].value(values[slots[index].name]) if index in slots else value
        for index, value in enumerate(params)
    ]


class CompiledExists:
    """``build(**values).exists()``, compiled once (as CompiledQuery, whose rules for ``build``
    and ``names`` it follows): ``run(**values)`` is True when the QuerySet has a row."""

    def __init__(self, build: Callable[..., QuerySet[Any]], *names: str) -> None:
        self.build = build
        self.names = names
        self._compiled: tuple[str, tuple[Any, ...], dict[int, _Slot], type[Model]] | None = None

    def compile(self) -> tuple[str, tuple[Any, ...], dict[int, _Slot], type[Model]]:
        if self._compiled is None:
            queryset = self.build(**_stand_ins(self.names))
            # What QuerySet.exists() runs: Query.has_results' query.
            sql, params = queryset.query.exists().get_compiler(using=queryset.db).as_sql()
            slots = _slots(self.build, self.names, params, lambda qs: qs.query.exists())
            self._compiled = (sql, tuple(params), slots, queryset.model)
        return self._compiled

    def sql_with_params(self, **values: Any) -> tuple[str, list[Any]]:
        sql, params, slots, _ = self.compile()
        return sql, _arguments(params, slots, values)

    def run(self, **values: Any) -> bool:
        sql, args = self.sql_with_params(**values)
        alias = router.db_for_read(self.compile()[3])
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchone() is not None


# The keyset_page shapes: the first page (or any page by offset), the rows after or before a
# position, and the rows from the far end (a polling link of an empty first page).
_FIRST, _FROM_END = "first", "from end"


class CompiledPages[M: Model]:
    """api.paging.keyset_page for ``build(**values)``, each shape compiled once per ordering.

    ``page(ordering, cursor=, skip=, limit=, **values)`` gives what
    ``keyset_page(build(**values), ordering, ...)`` gives, in one query of the same SQL (the
    position of a cursor is one more set of parameters). ``build`` follows CompiledQuery's rules.
    Raises the contract's 422 for a cursor whose position does not fit the ordering, as
    keyset_page does."""

    def __init__(self, build: Callable[..., QuerySet[M]], *names: str, literal: str | None = None) -> None:
        self.build = build
        self.names = names
        self.literal = literal  # CompiledQuery's, for every shape
        self._queries: dict[tuple[str, bool, str], CompiledQuery[M]] = {}

    def query(self, ordering: Ordering, shape: str) -> CompiledQuery[M]:
        """The compiled query of one shape: _FIRST, NEXT, PREV or _FROM_END."""
        key = (ordering.name, ordering.ascending, shape)
        if key not in self._queries:
            build = self.build
            position = tuple(f"position_{index}" for index in range(len(ordering.fields)))
            if shape in (NEXT, PREV):
                order = ordering.order_by if shape == NEXT else ordering.reversed_order_by

                def paged(**values: Any) -> QuerySet[M]:
                    own = {name: values[name] for name in self.names}
                    at = tuple(values[name] for name in position)
                    return after_position(build(**own), ordering, at, shape).order_by(*order)

                self._queries[key] = CompiledQuery(paged, *self.names, *position, literal=self.literal)
            else:
                order = ordering.order_by if shape == _FIRST else ordering.reversed_order_by
                self._queries[key] = CompiledQuery(
                    lambda **values: build(**values).order_by(*order),
                    *self.names,
                    literal=self.literal,
                )
        return self._queries[key]

    def page(
        self, ordering: Ordering, *, cursor: Cursor | None, skip: int, limit: int, **values: Any
    ) -> Page[M]:
        """keyset_page's page (api/paging.py), row for row."""
        if cursor is not None and cursor.direction == PREV and not cursor.position:
            rows = self.query(ordering, _FROM_END).run(offset=skip, limit=limit + 1, **values)
            return Page(rows[:limit][::-1], has_next=False, has_prev=len(rows) > limit)
        if cursor is None:
            rows = self.query(ordering, _FIRST).run(offset=skip, limit=limit + 1, **values)
            return Page(rows[:limit], has_next=len(rows) > limit, has_prev=skip > 0)
        query = self.query(ordering, cursor.direction)
        at = cursor_position(query.compile()[3].model, ordering, cursor)
        positions = {f"position_{index}": value for index, value in enumerate(at)}
        rows = query.run(offset=skip, limit=limit + 1, **values, **positions)
        if cursor.direction == NEXT:
            return Page(rows[:limit], has_next=len(rows) > limit, has_prev=True)
        return Page(rows[:limit][::-1], has_next=True, has_prev=len(rows) > limit)

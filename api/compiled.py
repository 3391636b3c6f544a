"""Hot reads compiled from their QuerySets once per process, then run with new parameters.

Every authenticated request reads its user, and every list and get-one reads posts with their
owners. Through the ORM each request builds the same SQL again (a QuerySet clone, a WHERE tree,
the compiler), about half of those requests' CPU (bench/RESULTS.md). A ``CompiledQuery`` asks
the ORM's compiler once for the SQL of a QuerySet (built with stand-in values for its
parameters), keeps it, and runs it with the values of each call; the rows become instances as
the ORM makes them (``Model.from_db``, the compiler's database converters, ``select_related``
relations cached, annotations set as attributes). The QuerySet stays the one statement of the
rule: change it and the compiled SQL changes with it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet

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
    related: tuple[tuple[Callable[[Model, Model], None], "_Loader"], ...]
    #: (name, position in the row, the compiler's converters for it, their expression) of the
    #: QuerySet's annotations, set as attributes as the ORM does.
    annotations: tuple[tuple[str, int, tuple[Any, ...], Any], ...] = ()

    def load(self, alias: str, row: Sequence[Any]) -> Model:
        instance = self.model.from_db(alias, self.attnames, row[self.start : self.stop])
        for set_cached, loader in self.related:
            set_cached(instance, loader.load(alias, row))
        for name, position, converters, expression in self.annotations:
            value = row[position]
            for convert in converters:
                value = convert(value, expression, connections[alias])
            setattr(instance, name, value)
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
    return _Loader(model, start, stop, attnames, related)


class CompiledQuery[M: Model]:
    """A QuerySet's SQL, compiled by the ORM at first use and run with new values.

    ``build`` makes the QuerySet from the query's parameters, named by ``names`` (keyword
    arguments, integers: ids). It is called once, with stand-in integers; each stand-in must
    reach the compiled SQL's parameters as it was given (an ``=`` lookup on an id does), else
    ValueError. ``run(limit=..., offset=...)`` adds the LIMIT and OFFSET the ORM's compiler
    adds for a slice (``connection.ops.limit_offset_sql``). Rows are read from the router's
    database for the model, through Django's cursor (logged, counted by query-capturing tests).
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *names: str) -> None:
        self.build = build
        self.names = names
        self._compiled: tuple[str, tuple[Any, ...], dict[int, str], _Loader] | None = None

    def queryset(self, **values: int) -> QuerySet[M]:
        """The QuerySet this query compiles, for these values: what the ORM alone would run."""
        return self.build(**values)

    def compile(self) -> tuple[str, tuple[Any, ...], dict[int, str], _Loader]:
        """(SQL, its parameters with stand-ins, {position: name} of the stand-ins, loader),
        made once per process."""
        if self._compiled is None:
            stand_ins = {name: _STAND_IN_BASE - index for index, name in enumerate(self.names)}
            queryset = self.build(**stand_ins)
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
            by_value = {value: name for name, value in stand_ins.items()}
            slots = {index: by_value[value] for index, value in enumerate(params) if value in by_value}
            if sorted(slots.values()) != sorted(self.names):
                raise ValueError(f"each of {self.names} must be one parameter of the compiled SQL")
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
        self, *, limit: int | None = None, offset: int = 0, **values: int
    ) -> tuple[str, list[Any]]:
        """The SQL and parameters ``run`` executes for these values."""
        sql, params, slots, _ = self.compile()
        args = [values[slots[index]] if index in slots else value for index, value in enumerate(params)]
        if limit is not None or offset:
            high = None if limit is None else offset + limit
            sql = f"{sql} {connections['default'].ops.limit_offset_sql(offset, high)}"
        return sql, args

    def run(self, *, limit: int | None = None, offset: int = 0, **values: int) -> list[M]:
        """The instances of the query's rows for these values (as ``list(queryset)`` gives, or
        ``list(queryset[offset:offset + limit])``)."""
        sql, args = self.sql_with_params(limit=limit, offset=offset, **values)
        loader = self.compile()[3]
        alias = router.db_for_read(loader.model)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, args)
            found = cursor.fetchall()
        return [loader.load(alias, row) for row in found]  # type: ignore[misc]

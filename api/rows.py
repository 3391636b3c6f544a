"""The hot reads' SQL written once, and their rows made into model instances as the ORM does.

Every authenticated request reads its user, and every list and get-one reads posts with their
owners. Through the ORM each request builds the same SQL again (a QuerySet clone, a WHERE tree,
the compiler): written once, a list and a get-one cost about half the CPU they did
(bench/RESULTS.md, issue 17). These reads keep the ORM's results (the same instances, from ``Model.from_db``,
with the same database converters) and its routing (the alias is the router's), with SQL whose
text is made from the models' metadata once per process.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from django.db import connections, router
from django.db.models import Field, Model


@dataclass(frozen=True)
class Columns[M: Model]:
    """A model's concrete columns, in its fields' order: ``select`` is the SELECT list
    (``"table"."column", ...``), ``attnames`` what ``Model.from_db`` takes with the values."""

    model: type[M]
    select: str
    attnames: tuple[str, ...]
    fields: tuple["Field[Any, Any]", ...]

    def __len__(self) -> int:
        return len(self.attnames)

    def instance(self, alias: str, values: Sequence[Any]) -> M:
        """The model instance of one row's values (as many as the model has columns), loaded
        from database `alias`, as the ORM makes it: the fields' database converters applied
        (none for the built-in fields on PostgreSQL), then ``Model.from_db``."""
        converters = _converters(self.model, alias)
        if converters:
            values = list(values)
            connection = connections[alias]
            for index, convert, expression in converters:
                values[index] = convert(values[index], expression, connection)
        return self.model.from_db(alias, self.attnames, values)


@cache
def columns[M: Model](model: type[M]) -> Columns[M]:
    """The model's Columns (made once per model and process)."""
    quote = connections["default"].ops.quote_name
    table = quote(model._meta.db_table)
    fields = tuple(model._meta.concrete_fields)
    return Columns(
        model=model,
        select=", ".join(f"{table}.{quote(cast(str, field.column))}" for field in fields),
        attnames=tuple(field.attname for field in fields),
        fields=fields,
    )


def column(model: type[Model], name: str) -> str:
    """``"table"."column"`` of the model's concrete field `name` (``pk``: its primary key),
    quoted."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    quote = connections["default"].ops.quote_name
    return f"{quote(model._meta.db_table)}.{quote(cast(str, getattr(field, 'column', None)))}"


@cache
def _converters(model: type[Model], alias: str) -> tuple[tuple[int, Callable[..., Any], Any], ...]:
    """(position, converter, column expression) of every database converter the ORM would apply
    to the model's columns read from `alias`: the backend's and the field's own (Django's
    ``SQLCompiler.get_converters``)."""
    connection = connections[alias]
    found = []
    for index, field in enumerate(columns(model).fields):
        expression = field.get_col(model._meta.db_table)
        for convert in connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        ):
            found.append((index, convert, expression))
    return tuple(found)


def read_alias(model: type[Model]) -> str:
    """The database a read of `model` goes to now: the router's choice (replicas/router.py),
    as for a QuerySet."""
    return router.db_for_read(model)


def fetch(alias: str, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql` (with %s placeholders for `params`) on database `alias`, through
    Django's cursor: logged, counted by query-capturing tests, and its errors Django's."""
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()

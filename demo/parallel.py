"""Loading seed's slices (demo/rows.py) in parallel: ``jobs`` processes, each with a connection of
its own, each slice in a transaction of its own.

The processes are spawned (not forked from a process holding Django's connection), and import
only demo/rows.py, this module, psycopg and the counter's setting name.
"""

import multiprocessing
import time
from collections.abc import Generator
from typing import Any

import psycopg

from demo import rows
from votes.triggers import SUSPENDED

Unit = tuple[str, int]

_connection: psycopg.Connection | None = None


def first_ids(plan: rows.Plan, counts: list[int]) -> list[int]:
    """Each unit's first vote or follow id (``plan.units()`` order), from each unit's number of
    dependent rows (``rows.dependent_rows``): ids run from 1 across a table's slices."""
    following: dict[str, int] = {}
    firsts = []
    for (table, _), count in zip(plan.units(), counts, strict=True):
        first = following.get(table, 1)
        firsts.append(first)
        following[table] = first + count
    return firsts


def load(params: dict[str, Any], plan: rows.Plan, jobs: int) -> Generator[tuple[Unit, float, int]]:
    """Load every slice of `plan` with `jobs` processes connecting with `params` (psycopg.connect's
    keywords); yield each slice with its seconds and its votes or follows as it commits, in
    ``plan.units()`` order.

    Each slice's transaction turns the vote counter aside (votes/counter.py's ``suspended()``,
    a transaction-local setting) and writes its posts' counts with their votes, so at every
    commit each committed post's count equals its committed votes, and other sessions' votes go
    on being counted. Raises RuntimeError with the database's message when a slice fails (the
    other processes are stopped, their transactions rolled back; committed slices stay).
    """
    units = plan.units()
    context = multiprocessing.get_context("spawn")
    with context.Pool(jobs, initializer=_connect, initargs=(params,)) as pool:
        counts = pool.starmap(rows.dependent_rows, [(plan, unit) for unit in units])
        firsts = first_ids(plan, counts)
        tasks = [(plan, unit, first, count) for unit, first, count in zip(units, firsts, counts, strict=True)]
        yield from pool.imap(_load, tasks, chunksize=1)


def _connect(params: dict[str, Any]) -> None:
    global _connection
    _connection = psycopg.connect(**params, autocommit=True)


def _load(task: tuple[rows.Plan, Unit, int, int]) -> tuple[Unit, float, int]:
    plan, unit, first_id, count = task
    assert _connection is not None  # noqa: S101 (set by the pool's initializer)
    started = time.monotonic()
    try:
        with _connection.transaction():
            _connection.execute("SELECT set_config(%s, 'on', true)", [SUSPENDED])
            _connection.execute("SET LOCAL synchronous_commit = off")
            with _connection.cursor() as cursor:
                rows.load(cursor, plan, unit, first_id)
    except psycopg.Error as error:  # its pickling across processes is not guaranteed: its words are
        raise RuntimeError(f"{unit[0]} slice {unit[1]}: {type(error).__name__}: {error}") from None
    return unit, time.monotonic() - started, count

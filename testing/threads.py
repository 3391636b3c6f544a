"""Calls started together on real threads, for the race tests (concurrency is tested
with real threads on a real database)."""

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection


def run_at_once[T](calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run every call on a thread of its own, all released together by a barrier; their results
    in the order of `calls`. Each thread closes its own database connection when done (Django
    opens one per thread), so use it with `django_db(transaction=True)`: the threads do not see
    a test's open transaction. An exception in a call is raised in its thread (pytest reports it
    as an unhandled thread exception) and leaves None in its place."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results

"""Health probes for load balancers and orchestrators; no auth, no rate limit.

- ``GET /health``: one ``SELECT 1`` (as it always was), 503 when the database does not answer.
- ``GET /health/live``: the process serves; touches nothing else, so a database outage does not
  make an orchestrator restart every instance (a liveness probe).
- ``GET /health/ready``: the database answers and every migration on disk is applied, so an
  instance of new code is not sent traffic before its schema (a readiness probe).
"""

import functools

from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.endpoints import Endpoint
from api.openapi import error_responses
from outage.responses import RETRY_AFTER_SECONDS, database_unavailable

MIGRATIONS_PENDING = "Migrations pending"
STATUS_OK = inline_serializer("Health", {"status": serializers.CharField()})


class HealthView(Endpoint):
    """GET /health: 200 ``{"status": "ok"}``, or 503 when the database does not answer."""

    public = True
    throttle_classes = []

    @extend_schema(
        responses={200: STATUS_OK, **error_responses(503, messages={503: "Database unavailable"})},
        tags=["Health"],
        summary="Health check",
        description="200 when the service and its database answer, 503 when the database does not.",
    )
    def get(self, request: Request) -> HttpResponse:  # a JsonResponse when the database is down
        """One ``SELECT 1``; a DatabaseError of any kind is the 503."""
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as exc:
            return database_unavailable(exc)
        return Response({"status": "ok"})


class LiveView(Endpoint):
    """GET /health/live: 200 ``{"status": "ok"}`` while the process serves, whatever the
    database does."""

    public = True
    throttle_classes = []
    uses_database = False

    @extend_schema(
        responses={200: STATUS_OK},
        tags=["Health"],
        summary="Liveness probe",
        description="200 while the process serves; does not touch the database.",
    )
    def get(self, request: Request) -> Response:
        """Always 200."""
        return Response({"status": "ok"})


@functools.cache
def migrations_on_disk() -> frozenset[tuple[str, str]]:
    """Every migration the code holds, as ``(app_label, name)``: read from disk once per process
    (the code does not change under a running process; building the graph costs more than the
    probe's query)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def pending_migrations() -> list[str]:
    """The migrations on disk not yet applied to the default database, as ``app.name``, sorted;
    one query. Raises DatabaseError when the database does not answer."""
    applied = MigrationRecorder(connection).applied_migrations()
    return sorted(f"{app}.{name}" for app, name in migrations_on_disk() - set(applied))


class ReadyView(Endpoint):
    """GET /health/ready: 200 ``{"status": "ok"}`` when the database answers and no migration
    is pending; else 503 with ``Retry-After`` and ``Database unavailable`` or
    ``Migrations pending`` (docs/api.md, "Health")."""

    public = True
    throttle_classes = []

    @extend_schema(
        responses={
            200: STATUS_OK,
            **error_responses(503, messages={503: ["Database unavailable", MIGRATIONS_PENDING]}),
        },
        tags=["Health"],
        summary="Readiness probe",
        description="200 when the database answers and every migration is applied; 503 otherwise.",
    )
    def get(self, request: Request) -> HttpResponse:  # a JsonResponse for a 503
        """Reads the applied migrations each time (one query), so the answer follows the
        database at once."""
        try:
            pending = pending_migrations()
        except DatabaseError as exc:
            return database_unavailable(exc)
        if pending:
            response = JsonResponse({"detail": MIGRATIONS_PENDING}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return Response({"status": "ok"})

"""GET /health for load balancers and orchestrators: one `SELECT 1`, no auth, no rate limit."""

from django.db import DatabaseError, connection
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.endpoints import Endpoint
from api.openapi import error_responses
from outage.responses import database_unavailable


class HealthView(Endpoint):
    """GET /health: 200 ``{"status": "ok"}``, or 503 when the database does not answer."""

    public = True
    throttle_classes = []

    @extend_schema(
        responses={
            200: inline_serializer("Health", {"status": serializers.CharField()}),
            **error_responses(503, messages={503: "Database unavailable"}),
        },
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

"""The schema rules of api/autoschema.py (EndpointSchema, the strict text field's extension), on
views of their own outside the project's routes: each rule holds for a view that declares
nothing but its success answer."""

import json

from django.core.validators import RegexValidator
from django.urls import re_path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.endpoints import Endpoint
from api.fields import BIGINT_MAX, BIGINT_MIN, StrictCharField


class NoteSerializer(serializers.Serializer):
    text = StrictCharField()
    note = StrictCharField(allow_blank=True)
    code = StrictCharField(validators=[RegexValidator("^[a-z]+$")])


class QuerySerializer(serializers.Serializer):
    q = StrictCharField(allow_blank=True, default="")


class NoteView(Endpoint):
    """A docstring written for the code's readers, not the schema's."""

    @extend_schema(request=NoteSerializer, responses={201: NoteSerializer})
    def post(self, request: Request, id: int) -> Response:
        """Neither is this one."""
        return Response(status=201)

    @extend_schema(responses={200: NoteSerializer}, description="Reads a note.")
    def get(self, request: Request, id: int) -> Response:
        return Response()


class SearchView(Endpoint):
    public = True

    @extend_schema(parameters=[QuerySerializer], responses={200: NoteSerializer})
    def get(self, request: Request) -> Response:
        return Response()


class HelloView(Endpoint):
    public = True
    uses_database = False

    @extend_schema(responses={200: NoteSerializer})
    def get(self, request: Request) -> Response:
        return Response()


class OwnAnswersView(Endpoint):
    @extend_schema(
        request=NoteSerializer,
        responses={201: None, 503: OpenApiResponse(description="Own words.")},
    )
    def post(self, request: Request) -> Response:
        return Response(status=201)


def schema() -> dict:
    patterns = [
        re_path(r"^notes/(?P<id>[^/]+)$", NoteView.as_view()),
        re_path(r"^search$", SearchView.as_view()),
        re_path(r"^hello$", HelloView.as_view()),
        re_path(r"^own$", OwnAnswersView.as_view()),
    ]
    return SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)


def test_a_path_id_is_a_64_bit_integer():
    (parameter,) = schema()["paths"]["/notes/{id}"]["get"]["parameters"]
    assert parameter == {
        "in": "path",
        "name": "id",
        "schema": {"type": "integer", "format": "int64", "minimum": BIGINT_MIN, "maximum": BIGINT_MAX},
        "required": True,
    }


def test_a_body_is_required_and_can_be_answered_413_and_415():
    operation = schema()["paths"]["/notes/{id}"]["post"]
    assert operation["requestBody"]["required"] is True
    assert {"401", "413", "415", "422", "503"} <= set(operation["responses"])
    assert "413" not in schema()["paths"]["/notes/{id}"]["get"]["responses"]


def test_answers_are_in_status_order():
    for path_item in schema()["paths"].values():
        for operation in path_item.values():
            assert list(operation["responses"]) == sorted(operation["responses"])


def test_503_with_retry_after_unless_the_view_uses_no_database():
    paths = schema()["paths"]
    unavailable = paths["/notes/{id}"]["get"]["responses"]["503"]
    assert unavailable["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/HTTPError"}
    assert unavailable["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert "503" not in paths["/hello"]["get"]["responses"]


def test_a_views_own_answer_wins_and_gets_retry_after():
    unavailable = schema()["paths"]["/own"]["post"]["responses"]["503"]
    assert unavailable["description"] == "Own words."
    assert "Retry-After" in unavailable["headers"]


def test_a_query_is_answered_422_and_a_public_route_no_401():
    responses = schema()["paths"]["/search"]["get"]["responses"]
    assert "422" in responses
    assert "401" not in responses
    assert "422" not in schema()["paths"]["/hello"]["get"]["responses"]


def test_a_description_is_only_the_declared_one():
    paths = schema()["paths"]
    assert "description" not in paths["/notes/{id}"]["post"]
    assert paths["/notes/{id}"]["get"]["description"] == "Reads a note."


def test_strict_text_is_one_plain_string_schema_with_its_own_pattern_only():
    # NUL is refused by validation (DRF's CharField), said once in the API's description, not
    # as a pattern on every text field (Redoc printed it on each; Swagger filled in garbage).
    components = schema()["components"]["schemas"]
    for name in ("Note", "NoteRequest"):
        properties = components[name]["properties"]
        assert properties["text"] == {"type": "string", "minLength": 1}
        # A field that allows "": no oneOf with an empty-string branch.
        assert properties["note"] == {"type": "string"}
        assert properties["code"]["pattern"] == "^[a-z]+$"
    (query,) = schema()["paths"]["/search"]["get"]["parameters"]
    assert query["schema"] == {"type": "string", "default": ""}
    assert "x00" not in json.dumps(schema())

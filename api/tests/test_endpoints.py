"""The base endpoint (api/endpoints.py) on views of its own, outside the project's routes."""

import pytest
from django.urls import re_path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from accounts.models import User
from api.endpoints import Endpoint


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField()


class NoteView(Endpoint):
    # Declares no error answers at all: the base's schema adds those it can give.
    @extend_schema(request=NoteSerializer, responses={201: NoteSerializer})
    def post(self, request: Request, id: int) -> Response:
        serializer = NoteSerializer(data=self.body)
        serializer.is_valid(raise_exception=True)
        return Response({"id": id, **serializer.validated_data}, status=201)

    @extend_schema(responses={200: NoteSerializer})
    def get(self, request: Request, id: int) -> Response:
        return Response({"id": id, "type": type(id).__name__})


class PublicView(Endpoint):
    public = True

    @extend_schema(responses={200: NoteSerializer})
    def get(self, request: Request) -> Response:
        return Response({"user": request.user})


factory = APIRequestFactory()


def call(view, method: str, *, user: User | None = None, data=None, **kwargs) -> Response:
    request = getattr(factory, method)("/notes/x", data, format="json" if data is not None else None)
    if user is not None:
        force_authenticate(request, user=user)
    response = view.as_view()(request, **kwargs)
    response.render()
    return response


@pytest.fixture
def someone() -> User:
    return User(pk=7, email="someone@example.com")


def test_a_path_id_reaches_the_handler_as_an_integer(someone):
    response = call(NoteView, "get", user=someone, id="12")
    assert response.status_code == 200
    assert response.data == {"id": 12, "type": "int"}


def test_a_bad_path_id_is_422_at_path_id_after_authentication(someone):
    assert call(NoteView, "get", id="twelve").status_code == 401
    response = call(NoteView, "get", user=someone, id="twelve")
    assert response.status_code == 422
    assert [error["loc"] for error in response.data["detail"]] == [["path", "id"]]


def test_an_unserved_method_is_405_before_401():
    assert call(NoteView, "delete", id="1").status_code == 405


def test_a_missing_body_is_422_at_body(someone):
    response = call(NoteView, "post", user=someone, id="1")
    assert response.status_code == 422
    assert response.data["detail"] == [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
    assert call(NoteView, "post", user=someone, data={"text": "hi"}, id="1").status_code == 201


def test_reads_of_an_authenticated_endpoint_are_private(someone):
    response = call(NoteView, "get", user=someone, id="1")
    assert response["Cache-Control"] == "private"
    assert response["Vary"] == "Authorization"


def test_a_public_endpoint_authenticates_no_one_and_is_not_private():
    request = factory.get("/public", HTTP_AUTHORIZATION="Bearer not-a-token")
    response = PublicView.as_view()(request)
    response.render()
    assert response.status_code == 200  # the bad token is not even read
    assert response.data == {"user": None}
    assert not response.has_header("Cache-Control")


def test_the_schema_gives_the_errors_a_view_does_not_declare():
    patterns = [
        re_path(r"^notes/(?P<id>[^/]+)$", NoteView.as_view()),
        re_path(r"^public$", PublicView.as_view()),
    ]
    paths = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)["paths"]
    assert {"201", "401", "422"} <= set(paths["/notes/{id}"]["post"]["responses"])
    assert {"200", "401", "422"} <= set(paths["/notes/{id}"]["get"]["responses"])
    assert "401" not in paths["/public"]["get"]["responses"]
    assert "422" not in paths["/public"]["get"]["responses"]
    assert paths["/public"]["get"]["security"] == [{}]

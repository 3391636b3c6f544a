"""Every response carries X-Request-ID, a 500 that escapes Django's own handling included."""

import json

from django.test import RequestFactory

from observability.request_id import RequestIdMiddleware


def test_an_exception_escaping_django_still_gets_a_json_500_with_the_id(caplog):
    def inner_chain_failing(request):
        raise RecursionError("the 500 handler itself failed")

    request = RequestFactory().get("/posts/", HTTP_X_REQUEST_ID="lb-1234")
    response = RequestIdMiddleware(inner_chain_failing)(request)
    assert response.status_code == 500
    assert json.loads(response.content) == {"detail": "Internal Server Error"}
    assert response["X-Request-ID"] == "lb-1234"
    assert "Internal Server Error: /posts/" in caplog.text

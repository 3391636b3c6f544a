import json

from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from config.urls import handler400, handler404, handler500, urlpatterns  # noqa: F401


@csrf_exempt
def leak(request: HttpRequest) -> HttpResponse:
    """Fails the way careless code does: Python's own errors quote the input they choke on."""
    password = json.loads(request.body or b"{}").get("password")
    if password is not None:
        int(password)  # ValueError: invalid literal for int() with base 10: '<the password>'
    raise KeyError(request.headers.get("Authorization"))


urlpatterns = [re_path(r"^leak$", leak), *urlpatterns]

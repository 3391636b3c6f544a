"""Sessions, Django's user and messages are the admin's only (siteadmin/middleware.py): its
paths get them, as from Django's own middleware; the API's paths go past them untouched."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from siteadmin.middleware import AdminMessageMiddleware, AdminSessionMiddleware, is_admin_path


@pytest.mark.parametrize(
    ("path", "admin"),
    [
        ("/admin", True),
        ("/admin/", True),
        ("/admin/login/", True),
        ("/admin/posts/post/", True),
        ("/administrator", False),
        ("/adminx/", False),
        ("/posts/", False),
        ("/users/me", False),
        ("/", False),
    ],
)
def test_admin_paths(path, admin):
    assert is_admin_path(RequestFactory().get(path)) is admin


def test_an_api_request_gets_no_session_and_no_message_store():
    seen = []

    def view(request):
        seen.append((hasattr(request, "session"), hasattr(request, "_messages")))
        return HttpResponse()

    chain = AdminSessionMiddleware(AdminMessageMiddleware(view))
    chain(RequestFactory().get("/posts/"))
    chain(RequestFactory().get("/admin/login/"))
    assert seen == [(False, False), (True, True)]

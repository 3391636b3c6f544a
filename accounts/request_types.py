"""Request types for code that runs only for a logged-in user, for the type checker.

Django and DRF type ``request.user`` as ``User | AnonymousUser``. Where a permission has
already refused anonymous requests (DRF's ``IsAuthenticated``, the admin's login), annotating
the request with one of these types says so, and mypy then knows ``request.user`` is our
``User`` (django-stubs' documented pattern for ``HttpRequest``). They are never instantiated:
Django and DRF create the requests as usual.
"""

from django.http import HttpRequest
from rest_framework.request import Request

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A Django request whose user has logged in: admin views and actions."""

    user: User


class AuthenticatedRequest(Request):
    """A DRF request on a route whose permissions refuse anonymous users."""

    user: User

"""Django's session, user and message middleware for the admin's pages only.

The admin is the one part of the site that keeps a session (its login cookie), a Django user
and one-off messages. The API's routes use none of them: their caller is the bearer token's
(api/authentication.py; DRF sets ``request.user``), they send no cookie and read none. Django's
middleware would still make a session store, a lazy user and a message store for every API
request and look at them again on the way out (about 50 µs of a request's CPU; bench/profiling.py).
These subclasses do exactly what Django's do for a path under the admin's prefix, and nothing for
any other path; they keep their places in ``MIDDLEWARE``, so the order of everything the admin
sees (its cookies, its ``Vary``) is Django's.
"""

from collections.abc import Awaitable

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

#: The admin's URL prefix (config/urls.py mounts the admin site there).
ADMIN_URL_PREFIX = "admin/"
_ADMIN_PATH = "/" + ADMIN_URL_PREFIX.rstrip("/")


def is_admin_path(request: HttpRequest) -> bool:
    """Whether the request's path (below the script prefix) is the admin's prefix or under it."""
    path = request.path_info
    return path.startswith(_ADMIN_PATH) and path[len(_ADMIN_PATH) : len(_ADMIN_PATH) + 1] in ("", "/")


class _AdminOnly(MiddlewareMixin):
    """Runs the Django middleware it is mixed into for the admin's paths; any other request goes
    straight on to the next middleware."""

    # MiddlewareMixin's signature: a coroutine's answer when Django serves it asynchronously.
    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if not is_admin_path(request):
            return self.get_response(request)
        return super().__call__(request)


class AdminSessionMiddleware(_AdminOnly, SessionMiddleware):
    """Django's SessionMiddleware, for the admin's paths only."""


class AdminAuthenticationMiddleware(_AdminOnly, AuthenticationMiddleware):
    """Django's AuthenticationMiddleware (``request.user`` from the session), for the admin's
    paths only."""


class AdminMessageMiddleware(_AdminOnly, MessageMiddleware):
    """Django's MessageMiddleware, for the admin's paths only."""

"""The admin's answer to a refused form (Django's CSRF_FAILURE_VIEW), with what to do about it."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils.html import escape
from django.views import csrf


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form Django's CSRF check refused.

    When the cookies are Secure (``ADMIN_COOKIES_SECURE``, on by default without DEBUG) and the
    page came over plain HTTP, the browser never sent them back: say so, and how to fix it, rather
    than Django's generic advice to re-enable cookies. Any other refusal gets Django's own page.
    """
    if settings.CSRF_COOKIE_SECURE and not request.is_secure():
        return HttpResponseForbidden(
            "<h1>Forbidden (403): the admin needs HTTPS</h1>"
            "<p>This server sends the admin's login and CSRF cookies over HTTPS only, and this "
            "page was loaded over plain HTTP, so your browser did not send them back.</p>"
            "<p>Open the admin over <code>https://</code> (behind a TLS proxy that sets "
            "<code>X-Forwarded-Proto: https</code>), or, on a private network only, set "
            "<code>ADMIN_COOKIES_SECURE=false</code> and restart the server.</p>"
            f"<p><small>Django's reason: {escape(reason)}</small></p>"
        )
    return csrf.csrf_failure(request, reason=reason)

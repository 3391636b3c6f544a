"""Django's admin on a site whose login is held to the same lock as ``POST /login``.

A wrong password at ``/admin/login/`` counts in the per-client-address failed-login limit
(``LOGIN_FAILURE_RATE``) that ``POST /login`` counts in: one count for both doors, so switching
between them gains nothing. Past the limit the login page answers 429 with ``Retry-After`` and
says so in the admin's own error box, without checking the password.

django-axes does this for Django's login forms, but it keeps a count of its own (lockouts after
``AXES_FAILURE_LIMIT`` with a cool-off, not the fixed windows of ``LOGIN_FAILURE_RATE``) and
reads before it writes, so concurrent guesses can pass its limit together; sharing one count
with the API's limiter (api/throttling.py), which counts first and takes back, is what the
API contract asks for, and takes one form and one site here.
"""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.sites import AdminSite
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from api.throttling import login_attempt


class RateLimitedAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, counting each wrong password as a failed login of the address.

    ``retry_after`` is the seconds to wait when the address is past the limit, else None.
    """

    retry_after: int | None = None
    # AdminSite.login always makes the form with the request (AuthenticationForm's may be None).
    request: HttpRequest

    def clean(self) -> dict:
        attempt = login_attempt(self.request)
        if attempt.over_limit:
            self.retry_after = attempt.retry_after
            raise ValidationError(
                "Too many failed logins from this address. Try again in %(seconds)d seconds.",
                code="throttled",
                params={"seconds": attempt.retry_after},
            )
        try:
            return super().clean()
        finally:
            # Only a password that was checked and wrong counts (as at POST /login).
            tried = self.cleaned_data.get("username") is not None and self.cleaned_data.get("password")
            attempt.settle(failed=bool(tried) and self.user_cache is None)


class RateLimitedAdminSite(AdminSite):
    login_form = RateLimitedAuthenticationForm

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        retry_after = getattr(form, "retry_after", None)
        if retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response

"""App configurations the project overrides."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """``django.contrib.admin`` with ``admin.site`` an instance of the site whose login counts
    failures with ``POST /login`` (siteadmin/site.py)."""

    default_site = "siteadmin.site.RateLimitedAdminSite"

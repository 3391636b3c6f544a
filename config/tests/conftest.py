import pytest
from django.conf import settings

from config.tests.servers import database_env, gunicorn


@pytest.fixture(scope="module")
def server_without_database():
    """gunicorn whose database does not exist: every query fails (a 503, config/outage.py).

    It serves the project's routes plus /leak (config/tests/leak_urls.py), whose error
    message quotes the request's password or token, as Python's own errors do.
    """
    env = database_env({**settings.DATABASES["default"], "NAME": "no_such_database"})
    env["DJANGO_SETTINGS_MODULE"] = "config.tests.leak_settings"
    with gunicorn(env) as server:
        yield server

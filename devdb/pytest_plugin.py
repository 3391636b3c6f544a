"""A plain ``pytest`` run gets what ``make test`` gives it: a database and a signing key.

Loaded by pytest itself (``-p devdb.pytest_plugin`` in pyproject.toml's addopts), before
pytest-django loads the settings. With no database configured it starts (or finds) the embedded
PostgreSQL and sets DATABASE_URL, as devdb/embedded.py does for make's commands; the server
stops when this run ends, unless another command still uses it. Every process a test starts
(gunicorn, manage.py) inherits both. Under ``make test`` both are set already: nothing happens.
"""

import os
import secrets

import pytest

from devdb import embedded as embedded_db
from environment.variables import env


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Before the settings load: DATABASE_URL for the embedded server if no database is set,
    and a random key for this run if no key is set."""
    options = early_config.known_args_namespace
    if getattr(options, "help", False) or getattr(options, "version", False):
        return
    if not (env("SECRET_KEY") or env("SECRET_KEY_FILE")):
        # Tokens signed during the run need not outlive it; nothing is written.
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    embedded_db.hand_over()

#!/usr/bin/env python
import os
import sys


def run_pytest(args: list[str]) -> None:
    """`manage.py test` runs the suite with pytest, as `make test` does: Django's own runner
    would find none of its tests (pytest-style functions) and report 0 tests, exit status 0."""
    try:
        import pytest  # noqa: F401 (a development requirement: present where tests can run)
    except ImportError:
        sys.exit("error: the tests run with pytest, a development requirement: make test (or make quick).")
    print(
        f"manage.py test runs pytest (make test runs them all, make quick the fast ones): pytest {' '.join(args)}"
    )
    sys.stdout.flush()
    # pytest gets the embedded database and a key itself (devdb/pytest_plugin.py).
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *args])  # noqa: S606


def main() -> None:
    if sys.argv[1:2] == ["test"]:
        run_pytest(sys.argv[2:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from config.startup import one_line_errors

    with one_line_errors():
        # Load the settings first: Django would run some commands (shell, help) without them,
        # and a configuration mistake, e.g. no database, must be one line whatever the command.
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

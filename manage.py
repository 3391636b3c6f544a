#!/usr/bin/env python
import os
import sys


def main() -> None:
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

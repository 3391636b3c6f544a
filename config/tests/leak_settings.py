"""The project's settings with one more route, /leak, for the logging tests."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "config.tests.leak_urls"

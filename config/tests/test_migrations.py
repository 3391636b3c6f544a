"""Operators evolve the schema with `manage.py migrate`: every migration must also go back."""

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def tables() -> set[str]:
    return set(connection.introspection.table_names())


def test_migrations_roll_back_to_zero_and_forward_again():
    assert {"accounts_user", "posts_post", "votes_vote"} <= tables()
    for app in ("votes", "posts", "accounts"):
        call_command("migrate", app, "zero", verbosity=0)
    assert not {"accounts_user", "posts_post", "votes_vote"} & tables()
    call_command("migrate", verbosity=0)
    assert {"accounts_user", "posts_post", "votes_vote"} <= tables()


def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)

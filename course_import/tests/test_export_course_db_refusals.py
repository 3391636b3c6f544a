"""export_course_db refuses a target it must not write with one clear line, a non-zero exit and
the target as it was."""

import io
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command

from course_import.tests.course_source import course_database, empty_database, source_rows
from posts.models import Post
from testing.net import free_port

pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)
REPOSITORY = Path(__file__).resolve().parents[2]


def refusal(url: str, *args: str) -> str:
    with pytest.raises(CommandError) as error:
        call_command("export_course_db", url, *args, stdout=io.StringIO(), stderr=io.StringIO())
    message = str(error.value)
    assert "\n" not in message
    return message


def tables(url: str) -> list[str]:
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        ).fetchall()
    return [name for (name,) in rows]


def test_unreachable_target_exits_non_zero_with_one_line():
    port = free_port()
    completed = subprocess.run(  # noqa: S603 -- a fixed command line
        [sys.executable, "manage.py", "export_course_db", f"postgresql://someone:secret@127.0.0.1:{port}/x"],
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stderr.startswith(f"CommandError: Cannot connect to x on 127.0.0.1:{port}")
    assert "secret" not in completed.stderr
    assert completed.stdout == ""


def test_malformed_url_is_refused():
    assert "The target database URL is not valid" in refusal("not-a-database-url")


def test_a_target_with_rows_is_refused_and_left_as_it_was(make_post):
    make_post()
    with course_database() as url:
        before = source_rows(url)
        message = refusal(url)
        assert source_rows(url) == before
    assert message == (
        "The target already holds 2 users, 3 posts and 3 votes. Export into an empty database, or pass"
        " --replace to delete them and write this backend's rows instead. Nothing was written."
    )


def test_a_target_with_other_tables_is_refused_even_with_replace(make_post):
    make_post()
    with empty_database() as url:
        with psycopg.connect(url) as db:
            db.execute("CREATE TABLE invoices (id int)")
        message = refusal(url, "--replace")
        assert tables(url) == ["invoices"]
    assert "holds tables that are not the original course API's (invoices)" in message


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ("DROP TABLE votes", "table votes"),
        ("ALTER TABLE posts DROP COLUMN published", "column posts.published"),
    ],
)
def test_a_target_that_is_not_the_original_schema_is_refused(change, missing):
    with course_database(change) as url:
        before = source_rows(url) if "votes" not in change else None
        message = refusal(url, "--replace")
        if before is not None:
            assert source_rows(url) == before
    assert "The target is not the original course API's database" in message
    assert missing in message


def test_a_failure_half_way_leaves_the_target_as_it_was(make_user):
    # The target's own rule refuses the last post: users are in by then, and all must go.
    owner = make_user("writer@example.com")
    Post.objects.create(owner=owner, title="fine", content="c")
    Post.objects.create(owner=owner, title="refused there", content="c")
    change = (
        "TRUNCATE users, posts, votes RESTART IDENTITY CASCADE;"
        " ALTER TABLE posts ADD CONSTRAINT no_refusals CHECK (title <> 'refused there')"
    )
    with course_database(change) as url:
        message = refusal(url)
        with psycopg.connect(url) as db:
            counts = db.execute(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts)"
            ).fetchone()
    assert message.startswith("The export failed and nothing was written: ")
    assert "no_refusals" in message
    assert counts == (0, 0)


def test_a_failure_in_a_new_target_leaves_it_empty(make_user):
    # An id the original's integer column cannot hold: the copy fails after the tables were made.
    make_user("big@example.com", id=2**31)
    with empty_database() as url:
        message = refusal(url)
        assert tables(url) == []
    assert message.startswith("The export failed and nothing was written: ")

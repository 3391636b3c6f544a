"""import_course_db refuses bad input with a clear message, a non-zero exit and nothing written."""

import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from course_import.tests.course_source import course_database
from posts.models import Post
from votes.models import Vote

pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)
REPOSITORY = Path(__file__).resolve().parents[2]


def refusal(url: str) -> str:
    with pytest.raises(CommandError) as error:
        call_command("import_course_db", url, stdout=io.StringIO(), stderr=io.StringIO())
    message = str(error.value)
    assert "\n" not in message  # one line, whatever the server's error said
    return message


def nothing_imported() -> bool:
    return not Post.objects.exists() and not Vote.objects.exists()


def test_unreachable_source_exits_non_zero_with_a_message():
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    completed = subprocess.run(  # noqa: S603 -- a fixed command line
        [sys.executable, "manage.py", "import_course_db", f"postgresql://someone:secret@127.0.0.1:{port}/x"],
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert f"Cannot connect to x on 127.0.0.1:{port}" in completed.stderr
    assert "secret" not in completed.stderr
    assert completed.stdout == ""
    assert not User.objects.exists()


def test_malformed_url_is_refused():
    assert "The source database URL is not valid" in refusal("not-a-database-url")


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ("DROP TABLE votes", "table votes"),
        ("DROP TABLE alembic_version", "table alembic_version"),
        ("ALTER TABLE posts DROP COLUMN published", "column posts.published"),
        ("ALTER TABLE users RENAME COLUMN email TO mail", "column users.email"),
    ],
)
def test_a_source_that_is_not_the_original_schema_is_refused(change, missing):
    with course_database(change) as url:
        message = refusal(url)
    assert "not the original course API's database" in message
    assert missing in message
    assert "Nothing was written" in message
    assert not User.objects.exists()


def test_a_user_here_with_a_source_users_id_is_refused(make_user):
    make_user("someone.else@example.com", id=1)
    with course_database() as url:
        message = refusal(url)
    assert "user 1 here is someone.else@example.com, but in the source user 1 is alice@example.com" in message
    assert list(User.objects.values_list("email", flat=True)) == ["someone.else@example.com"]
    assert nothing_imported()


def test_a_user_made_here_with_a_source_users_id_and_email_is_named_as_such(make_user):
    # Signed up through the API before the import: same id, same address, another account.
    make_user("alice@example.com", id=1)
    with course_database() as url:
        message = refusal(url)
    assert "user 1 (alice@example.com) was created here at " in message
    assert "not imported from the source (where it joined at " in message
    assert "but in the source user 1 is alice@example.com" not in message
    assert nothing_imported()


def test_a_user_here_with_a_source_users_email_is_refused(make_user):
    make_user("bob.smith@example.com", id=40)
    with course_database() as url:
        message = refusal(url)
    assert "bob.smith@example.com is user 40 here but user 2 in the source" in message
    assert User.objects.count() == 1
    assert nothing_imported()


def test_a_post_here_with_a_source_posts_id_is_refused(make_user):
    owner = make_user("writer@example.com", id=70)
    Post.objects.create(id=2, owner=owner, title="mine", content="here first")
    with course_database() as url:
        message = refusal(url)
    assert "post 2 here is not post 2 of the source" in message
    assert list(Post.objects.values_list("title", flat=True)) == ["mine"]
    assert User.objects.count() == 1


def test_a_failure_half_way_rolls_everything_back():
    # A vote on a post that does not exist: users and posts go in first, then the votes fail.
    change = "ALTER TABLE votes DROP CONSTRAINT votes_post_id_fkey; INSERT INTO votes VALUES (1, 999)"
    with course_database(change) as url:
        message = refusal(url)
    assert "The import failed and nothing was written" in message
    assert not User.objects.exists()
    assert nothing_imported()

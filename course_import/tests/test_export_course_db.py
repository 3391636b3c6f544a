"""manage.py export_course_db: this backend's rows written into the original's schema."""

import io

import bcrypt
import psycopg
import pytest
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management import call_command

from accounts.models import User
from course_import.exporter import EXPORTED, NOT_EXPORTED, NOT_USER_DATA
from course_import.target import ORIGINAL_REVISION
from course_import.tests.course_source import course_database, empty_database
from moderation.models import ModerationAction, Report
from posts.models import Post
from testing.clients import login
from votes.models import Vote

# The command commits its own transaction on the target; the rows here are made by the test.
pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)

# The original's own tables' rows, as its code reads them.
TARGET_ROWS = [
    "SELECT id, email, created_at FROM users ORDER BY id",
    "SELECT id, title, content, owner_id, published, created_at FROM posts ORDER BY id",
    "SELECT user_id, post_id FROM votes ORDER BY 1, 2",
]


def export(url: str, *args: str) -> str:
    out = io.StringIO()
    call_command("export_course_db", url, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def target_rows(url: str) -> list[list[tuple]]:
    with psycopg.connect(url) as db:
        return [db.execute(query).fetchall() for query in TARGET_ROWS]


@pytest.fixture
def target():
    with empty_database() as url:
        yield url


@pytest.fixture
def activity(make_user):
    """Two users, a staff member, a published post, a draft, a hidden post and three votes."""
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    staff = make_user("staff@example.com", is_staff=True)
    first = Post.objects.create(owner=alice, title="first", content="hello")
    draft = Post.objects.create(owner=alice, title="draft", content="not yet", published=False)
    hidden = Post.objects.create(owner=bob, title="spam", content="buy now", hidden=True)
    for voter, post in ((bob, first), (alice, hidden), (staff, first)):
        Vote.objects.create(user=voter, post=post)
    return alice, bob, staff, first, draft, hidden


def test_users_posts_and_votes_keep_ids_times_and_drafts_and_hidden_posts_become_drafts(target, activity):
    alice, bob, staff, first, draft, hidden = activity
    output = export(target)

    users, posts, votes = target_rows(target)
    assert users == [(u.pk, u.email, u.date_joined) for u in (alice, bob, staff)]
    assert posts == [
        (first.pk, "first", "hello", alice.pk, True, first.created_at),
        (draft.pk, "draft", "not yet", alice.pk, False, draft.created_at),
        (hidden.pk, "spam", "buy now", bob.pk, False, hidden.created_at),
    ]
    assert votes == sorted([(bob.pk, first.pk), (alice.pk, hidden.pk), (staff.pk, first.pk)])
    assert "users: 3 exported" in output
    assert "posts: 3 exported" in output
    assert "votes: 3 exported" in output
    assert "hidden posts: 1 exported as drafts" in output
    assert "staff: 1 exported as ordinary users" in output
    with psycopg.connect(target) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(ORIGINAL_REVISION,)]


def test_the_originals_next_ids_follow_the_highest_exported(target, make_user):
    owner = make_user("writer@example.com", id=41)
    Post.objects.create(id=900, owner=owner, title="t", content="c")
    export(target)
    with psycopg.connect(target) as db:
        # The original's own inserts: columns it does not set take their defaults.
        db.execute("INSERT INTO users (email, password) VALUES ('new@example.com', 'x')")
        db.execute("INSERT INTO posts (title, content, owner_id) VALUES ('n', 'c', 41)")
        assert db.execute("SELECT max(id) FROM users").fetchone() == (42,)
        assert db.execute("SELECT max(id) FROM posts").fetchone() == (901,)


def test_the_target_has_the_originals_constraints(target, activity):
    export(target)
    with psycopg.connect(target) as db:
        names = {
            row[0]
            for row in db.execute(
                "SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
            )
        }
        assert {"users_pkey", "users_email_key", "posts_pkey", "post_users_fk", "votes_pkey"} <= names
        with pytest.raises(psycopg.errors.UniqueViolation):
            db.execute("INSERT INTO users (email, password) VALUES ('alice@example.com', 'x')")


def test_what_the_schema_cannot_hold_is_counted_by_kind(target, activity, api_client):
    alice, bob, staff, first, _, hidden = activity
    Report.objects.create(post=hidden, reporter=alice, reason="spam")
    Report.objects.create(post=first, reporter=bob, reason="other")
    ModerationAction.objects.create(action="hide", moderator=staff, post=hidden, author=bob, subject="spam")
    assert login(api_client, "alice@example.com").status_code == 200  # one refresh session
    output = export(target)
    assert "reports: 2 not exported" in output
    assert "moderation record: 1 not exported" in output
    assert "refresh sessions: 1 not exported" in output
    # Apps that are not installed (yet) have no line.
    labels = {model._meta.label for model in apps.get_models()}
    for kind in NOT_EXPORTED:
        assert (f"\n{kind.kind}: " in output) == (kind.model in labels)


def test_every_model_of_the_project_is_exported_counted_or_said_to_be_no_ones_data():
    # A new app (comments, follows, ...) must say how its rows leave: exported, or one line
    # in NOT_EXPORTED (course_import/exporter.py), or no one's data.
    counted = {kind.model for kind in NOT_EXPORTED}
    project = {
        model._meta.label
        for model in apps.get_models()
        if not model.__module__.startswith(("django.", "rest_framework"))
    }
    project |= {"token_blacklist.OutstandingToken", "token_blacklist.BlacklistedToken"}
    assert project - (EXPORTED | counted | NOT_USER_DATA) == set()


def test_an_original_database_with_empty_tables_is_filled(activity):
    with course_database("TRUNCATE users, posts, votes RESTART IDENTITY CASCADE") as url:
        output = export(url)
        users, posts, votes = target_rows(url)
    assert "Target: wrote into the original's empty tables." in output
    assert (len(users), len(posts), len(votes)) == (3, 3, 3)


def test_replace_deletes_the_targets_rows_and_writes_these(activity):
    with course_database() as url:
        output = export(url, "--replace")
        users, posts, _ = target_rows(url)
    assert "Target: replaced the 2 users, 3 posts and 3 votes it held." in output
    assert [email for _, email, _ in users] == ["alice@example.com", "bob@example.com", "staff@example.com"]
    assert [title for _, title, *_ in posts] == ["first", "draft", "spam"]


def test_this_database_is_only_read(target, activity):
    before = list(User.objects.order_by("id").values_list()), list(Post.objects.order_by("id").values_list())
    export(target)
    assert (
        list(User.objects.order_by("id").values_list()),
        list(Post.objects.order_by("id").values_list()),
    ) == before


@pytest.mark.real_hasher
def test_every_user_logs_in_to_the_original_with_the_password_used_here(target, make_user, api_client):
    long_password = "correct horse battery staple " * 3  # 87 bytes: bcrypt reads the first 72
    make_user("new@example.com", password="new-password-1")
    make_user("long@example.com", password=long_password)
    old = make_user("old@example.com")
    # Signed up before bcrypt was the preferred hasher.
    User.objects.filter(pk=old.pk).update(password=make_password("old-password-1", hasher="pbkdf2_sha256"))
    make_user("gone@example.com", password="gone-password-1", is_active=False)

    output = export(target)
    hashes = dict(_target_hashes(target))
    assert hashes["new@example.com"].startswith("$2b$12$")
    assert bcrypt.checkpw(b"new-password-1", hashes["new@example.com"].encode())
    assert bcrypt.checkpw(long_password.encode()[:72], hashes["long@example.com"].encode())
    assert not bcrypt.checkpw(b"old-password-1", hashes["old@example.com"].encode())
    assert not bcrypt.checkpw(b"gone-password-1", hashes["gone@example.com"].encode())
    assert "users without a password the original can check: 2" in output
    assert f"  user {old.pk}: old@example.com" in output
    assert "gone@example.com" in output
    assert "new@example.com" not in output

    # The old user logs in here once: the hash is upgraded, and a new export carries it.
    assert login(api_client, "old@example.com", "old-password-1").status_code == 200
    assert login(api_client, "long@example.com", long_password).status_code == 200
    output = export(target, "--replace")
    assert bcrypt.checkpw(b"old-password-1", dict(_target_hashes(target))["old@example.com"].encode())
    assert "old@example.com" not in output


def _target_hashes(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as db:
        return db.execute("SELECT email, password FROM users").fetchall()

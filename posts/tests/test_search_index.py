"""`search` reads the trigram index where pg_trgm exists, and works without it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from posts.extensions import ensure_extension
from posts.models import Post
from testing.clients import client_for

pytestmark = pytest.mark.django_db


def index_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'post_title_trigram')")
        return cursor.fetchone()[0]


def skip_unless_statements_are_prepared() -> None:
    """Skip the test where psycopg never prepares (PgBouncer's transaction pooling)."""
    if connection.settings_dict["OPTIONS"].get("prepare_threshold") is None:
        pytest.skip("statements are never prepared on this connection (transaction pooling)")


def test_a_missing_extension_is_no_error():
    assert ensure_extension(connection, "no_such_extension_anywhere") is False
    with connection.cursor() as cursor:  # the caller's transaction is still usable
        cursor.execute("SELECT 1")


def test_search_query_can_use_the_trigram_index(user):
    if not ensure_extension(connection, "pg_trgm"):
        pytest.skip("pg_trgm is not available on this server")
    assert index_exists()
    query = (
        Post.objects.visible_to(user).filter(title__icontains="django").order_by("-created_at", "-id")[:10]
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")  # leave the bitmap scan as the way in
        # On an empty table the feed's partial indexes (post_feed, post_feed_walk) are as cheap a
        # bitmap as any: out of the way for this question (the test's transaction brings them back).
        cursor.execute("DROP INDEX post_feed, post_feed_walk")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "post_title_trigram" in plan


@pytest.mark.django_db(transaction=True)
def test_the_index_migration_reverses_and_reapplies():
    executor = MigrationExecutor(connection)
    state = executor.migrate([("posts", "0002_post_vote_total")])
    assert not index_exists()
    owner = User.objects.create_user(email="a@example.com", password="password123")
    # The posts table as it was at that migration: later ones may add columns.
    old_post = state.apps.get_model("posts", "Post")
    old_post.objects.create(owner_id=owner.pk, title="Learning Django", content="c")
    assert old_post.objects.filter(title__icontains="DJANGO").count() == 1  # search works without it
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert index_exists() == ensure_extension(connection, "pg_trgm")


def prepared_statements(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{fragment}%"]
        )
        return [row[0] for row in cursor.fetchall()]


def test_each_search_text_is_a_statement_of_its_own(settings, user, make_post):
    """psycopg prepares a statement on its sixth run on a connection; PostgreSQL may then keep
    one generic plan for it. With the text a parameter, every search shared that plan, which
    walks every title for a search the trigram index would answer at once. The text is written
    into the statement (api.compiled._written_in): a text searched again and again is prepared
    with its own plan, and no prepared search takes its text as a parameter."""
    skip_unless_statements_are_prepared()
    settings.EXPENSIVE_READ_RATE = "1000/minute"
    make_post(title="a cat")
    make_post(title="it's 100% a_b\\c")
    client = client_for(user)
    # Run 5 times by the process (api.compiled.REPEATED), then 6 more to be prepared by psycopg.
    for search in ["~", "a", "cat", "xyz", "it's 100%", "a_b\\"] * 11:
        assert client.get("/posts/", {"search": search}).status_code == 200
    for _ in range(8):
        assert client.get("/posts/?limit=10").status_code == 200
    assert prepared_statements('"posts_post"."created_at" DESC')  # the list's pages are prepared
    searches = prepared_statements(" LIKE ")
    for text in ("'%~%'", "UPPER('%cat%')", "UPPER('%xyz%')", "UPPER( E'%it''s 100\\\\%%')", "a\\\\_b"):
        assert [statement for statement in searches if text in statement], text
    assert not [statement for statement in searches if "LIKE UPPER($" in statement or "LIKE $" in statement]
    assert [p["Post"]["title"] for p in client.get("/posts/?search=cat").json()] == ["a cat"]
    for search in ("it's 100%", "a_b\\", "'s 100% a_b\\c"):
        found = client.get("/posts/", {"search": search}).json()
        assert [p["Post"]["title"] for p in found] == ["it's 100% a_b\\c"], search
    assert client.get("/posts/", {"search": "100%_"}).json() == []  # % and _ are not wildcards


@pytest.mark.django_db(transaction=True)
def test_texts_searched_once_do_not_keep_other_statements_from_being_prepared(settings, user, make_post):
    """psycopg counts a statement's runs on a connection among the last 100 it has seen, and
    prepares it on its sixth. Were every new search text counted, a hundred of them between two
    runs of another statement (here a get-one) would push its count out each time: it would
    never be prepared. A statement with its text written in is counted only once the process
    has run it a few times (api.compiled.RepeatedStatements). Outside a test's transaction, as
    a request runs: inside one, each search's savepoint is two statements more to count."""
    skip_unless_statements_are_prepared()
    settings.EXPENSIVE_READ_SHARE = 100
    post = make_post(title="a cat")
    client = client_for(user)
    assert client.get("/posts/?limit=1").status_code == 200  # the connection is open
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # psycopg forgets its own counts with it
    for round in range(6):
        for n in range(105):
            assert client.get("/posts/", {"search": f"zq{round}x{n}", "limit": 1}).status_code == 200
        assert client.get(f"/posts/{post.pk}").status_code == 200
    assert prepared_statements('AND "posts_post"."id" = $')  # the get-one
    assert not prepared_statements("zq")


def test_the_exact_count_of_a_search_is_planned_for_its_own_text(settings, user, make_post):
    """``Prefer: count=exact`` with a search counts through the ORM, the text a parameter: it
    is never prepared (api.compiled.unprepared), or one generic plan would serve every text."""
    skip_unless_statements_are_prepared()
    settings.EXPENSIVE_READ_RATE = "1000/minute"
    settings.EXPENSIVE_READ_SHARE = 100
    make_post(title="a cat")
    client = client_for(user)
    for search in ["cat", "dog"] * 6:
        response = client.get("/posts/", {"search": search}, HTTP_PREFER="count=exact")
        assert response.status_code == 200
        assert response["X-Total-Count"] == ("1" if search == "cat" else "0")
    assert not prepared_statements("COUNT(*)")

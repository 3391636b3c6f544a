"""After import_course_db, every post's vote_total is its real number of votes, and the vote
counter's triggers are back on: the import counts in bulk instead of vote by vote."""

import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import User
from course_import.tests.course_source import course_database
from posts.models import Post
from testing.clients import client_for

pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)


def run(url: str) -> None:
    call_command("import_course_db", url, stdout=io.StringIO(), stderr=io.StringIO())


def vote_totals() -> dict[int, int]:
    """Each post's stored vote_total, after checking it against a count of its votes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.vote_total, count(v.id) FROM posts_post p"
            " LEFT JOIN votes_vote v ON v.post_id = p.id GROUP BY p.id ORDER BY p.id"
        )
        rows = cursor.fetchall()
    assert [(post_id, stored) for post_id, stored, _ in rows] == [(post_id, n) for post_id, _, n in rows]
    return {post_id: stored for post_id, stored, _ in rows}


def test_vote_totals_are_exact_after_a_first_and_a_later_run():
    with course_database() as url:
        run(url)
        assert vote_totals() == {1: 1, 2: 0, 3: 2}

        # Meanwhile, here: alice writes a post and bob votes on it; in the original, alice
        # votes on post 1 and bob on post 2.
        alice, bob = User.objects.get(pk=1), User.objects.get(pk=2)
        response = client_for(alice).post("/posts/", {"title": "written here", "content": "x"})
        assert response.status_code == 201
        assert client_for(bob).post("/vote/", {"post_id": 4, "dir": 1}).status_code == 201
        with psycopg.connect(url) as source:
            source.execute("INSERT INTO votes (user_id, post_id) VALUES (1, 1), (2, 2)")

        run(url)
        assert vote_totals() == {1: 2, 2: 1, 3: 2, 4: 1}
        run(url)
        assert vote_totals() == {1: 2, 2: 1, 3: 2, 4: 1}

    # The counter counts votes cast after the import, and the guard still ignores a count
    # written by hand.
    assert client_for(alice).post("/vote/", {"post_id": 4, "dir": 1}).status_code == 201
    assert client_for(alice).post("/vote/", {"post_id": 3, "dir": 0}).status_code == 201
    Post.objects.filter(pk=1).update(vote_total=99)
    assert vote_totals() == {1: 2, 2: 1, 3: 1, 4: 2}
    assert client_for(bob).get("/posts/1").json()["votes"] == 2

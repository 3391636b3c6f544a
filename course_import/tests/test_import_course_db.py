"""manage.py import_course_db against a real database built from the original's schema."""

import io

import bcrypt
import pytest
from django.core.management import call_command

from accounts.models import User
from course_import.tests.course_source import course_database, source_rows
from posts.models import Post
from testing.clients import client_for, login
from votes.models import Vote

# The command commits its own transaction; these tests see exactly what it leaves behind, and
# start from fresh id sequences, as a newly migrated database has.
# The configured hashers, not the suite's fast one: the imported bcrypt hashes are real.
pytestmark = [pytest.mark.django_db(transaction=True, reset_sequences=True), pytest.mark.real_hasher]


@pytest.fixture
def source():
    with course_database() as url:
        yield url


def run(url: str, *args: str) -> str:
    out = io.StringIO()
    call_command("import_course_db", url, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts_line(output: str, table: str) -> list[int]:
    line = next(line for line in output.splitlines() if line.startswith(table))
    return [int(n.replace(",", "")) for n in line.split()[1:]]


def token_client(api_client, email: str, password: str):
    response = login(api_client, email, password)
    assert response.status_code == 200, response.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return api_client


def everything() -> list[list[tuple]]:
    return [
        list(User.objects.order_by("id").values_list("id", "email", "password", "date_joined")),
        list(Post.objects.order_by("id").values_list()),
        list(Vote.objects.order_by("id").values_list()),
    ]


def test_alice_logs_in_with_her_old_password_and_keeps_the_originals_hash(api_client, source):
    run(source)
    alice = User.objects.get(email="alice@example.com")
    assert alice.pk == 1
    assert alice.password == "bcrypt$" + source_rows(source)[0][0][2]

    assert login(api_client, "alice@example.com", "pw-alice").status_code == 200
    # The preferred hasher is the original's bcrypt, at its cost: nothing to re-hash, and the
    # hash still logs in to the original (manage.py export_course_db).
    alice.refresh_from_db()
    assert alice.password == "bcrypt$" + source_rows(source)[0][0][2]
    assert login(api_client, "alice@example.com", "pw-alice").status_code == 200
    assert login(api_client, "alice@example.com", "wrong-password").status_code == 403


def test_mixed_case_email_is_lower_cased_and_logs_in(api_client, source):
    run(source)
    response = api_client.get("/users/2")
    assert response.status_code == 200
    assert response.json()["email"] == "bob.smith@example.com"
    assert login(api_client, "Bob.Smith@example.com", "pw-alice").status_code == 200
    assert login(api_client, "bob.smith@example.com", "pw-alice").status_code == 200


def test_posts_drafts_votes_and_times_match_the_source(api_client, source):
    run(source)
    _, posts, _, _ = source_rows(source)
    alice = token_client(api_client, "alice@example.com", "pw-alice")
    listed = {item["Post"]["id"]: item for item in alice.get("/posts/").json()}
    assert {i: (p["Post"]["title"], p["Post"]["published"], p["votes"]) for i, p in listed.items()} == {
        1: ("first post", True, 1),
        2: ("a draft", False, 0),
        3: ("bob writes", True, 2),
    }
    for post_id, title, content, owner_id, published, created_at in posts:
        body = listed[post_id]["Post"]
        assert (body["title"], body["content"], body["owner_id"], body["published"]) == (
            title,
            content,
            owner_id,
            published,
        )
        assert Post.objects.get(pk=post_id).created_at == created_at

    bob = client_for(User.objects.get(email="bob.smith@example.com"))
    assert sorted(item["Post"]["id"] for item in bob.get("/posts/").json()) == [1, 3]
    assert bob.get("/posts/2").status_code == 404


def test_new_posts_and_users_get_new_ids(api_client, source):
    run(source)
    alice = token_client(api_client, "alice@example.com", "pw-alice")
    response = alice.post("/posts/", {"title": "after the move", "content": "new here"})
    assert response.status_code == 201
    assert response.json()["id"] == 4
    response = api_client.post("/users/", {"email": "carol@example.com", "password": "carol-pass-1"})
    assert response.status_code == 201
    assert response.json()["id"] == 3


def test_second_run_changes_nothing_and_says_so(api_client, source):
    first = run(source)
    assert counts_line(first, "users") == [2, 2, 0, 0]
    assert counts_line(first, "votes") == [3, 3, 0, 0]
    alice = token_client(api_client, "alice@example.com", "pw-alice")
    assert alice.post("/posts/", {"title": "written here", "content": "x"}).status_code == 201
    before = everything()

    second = run(source)
    assert everything() == before
    for table, total in (("users", 2), ("posts", 3), ("votes", 3)):
        assert counts_line(second, table) == [total, 0, total, 0]
    assert "Nothing new to import" in second
    assert "Import committed" not in second


def test_dry_run_reports_and_writes_nothing(source):
    output = run(source, "--dry-run")
    assert counts_line(output, "posts") == [3, 3, 0, 0]
    assert "Dry run: nothing was written" in output
    assert everything() == [[], [], []]
    # Nor were the id sequences moved.
    assert Post.objects.create(owner=User.objects.create_user("x@example.com"), title="t").pk == 1


def test_emails_differing_by_case_are_skipped_with_their_posts_and_votes(api_client):
    extra = """
        INSERT INTO users (email, password) VALUES ('bob.smith@example.com', 'x'), ('carol@example.com', 'y');
        INSERT INTO posts (title, content, owner_id) VALUES ('second bob', 'hm', 3), ('carol', 'c', 4);
        INSERT INTO votes (user_id, post_id) VALUES (1, 4), (3, 1), (4, 5), (1, 5);
    """
    with course_database(extra) as url:
        output = run(url)
    assert counts_line(output, "users") == [4, 2, 0, 2]
    assert counts_line(output, "posts") == [5, 3, 0, 2]
    assert counts_line(output, "votes") == [7, 2, 0, 5]
    assert "user 2: Bob.Smith@example.com" in output
    assert "user 3: bob.smith@example.com" in output
    assert list(User.objects.order_by("id").values_list("id", "email")) == [
        (1, "alice@example.com"),
        (4, "carol@example.com"),
    ]
    assert sorted(Post.objects.values_list("id", flat=True)) == [1, 2, 5]
    assert sorted(Vote.objects.values_list("user_id", "post_id")) == [(1, 5), (4, 5)]
    # Skipped ids stay free, and new rows go past them.
    response = api_client.post("/users/", {"email": "dave@example.com", "password": "dave-pass-1"})
    assert response.json()["id"] == 5


def test_long_and_non_bcrypt_passwords_never_break_login(api_client):
    # passlib hashed only the first 72 bytes; bcrypt 5 refuses longer passwords outright.
    long_password = "a-very-long-passphrase-" * 5
    long_hash = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(4)).decode()
    extra = (
        "INSERT INTO users (email, password)"
        " VALUES ('long@example.com', %s), ('odd@example.com', 'plain-text-password')"
    )
    with course_database(extra, [long_hash]) as url:
        output = run(url)
    assert "1 users have a password that is not a bcrypt hash" in output
    assert login(api_client, "long@example.com", long_password).status_code == 200
    assert login(api_client, "long@example.com", "x" * 128).status_code == 403
    assert login(api_client, "odd@example.com", "plain-text-password").status_code == 403


def test_the_source_is_left_as_it_was(source):
    before = source_rows(source)
    run(source)
    run(source)
    assert source_rows(source) == before


def test_emails_get_the_form_signup_gives_them(api_client):
    extra = """
        INSERT INTO users (email, password) VALUES (' Pia@XN--BCHER-KVA.example', 'x'),
            ('ivan@пример.рф', 'y'), ('IVAN@xn--e1afmkfd.xn--p1ai', 'z');
    """
    with course_database(extra) as url:
        output = run(url)
    assert counts_line(output, "users") == [5, 3, 0, 2]
    assert "user 4: ivan@пример.рф" in output
    assert User.objects.get(pk=3).email == "pia@bücher.example"
    response = api_client.post("/users/", {"email": "pia@bücher.example", "password": "pia-pass-12"})
    assert response.status_code == 409

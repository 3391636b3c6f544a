"""Every read route of posts, comments and users answers from compiled reads (api/compiled.py):
once warm, a request builds no SQL, runs a pinned number of queries, and answers byte for byte
what the QuerySet path (keyset_page of the view's filter_queryset(get_queryset())) answers."""

import re
import urllib.parse

import pytest
from django.db import connection
from django.db.models.sql import compiler
from django.test.utils import CaptureQueriesContext

from api.paging import keyset_page
from comments.models import Comment
from comments.views import PostCommentsViewSet
from posts.views import PostViewSet
from votes.models import Vote

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


@pytest.fixture
def data(user, other_user, make_post):
    posts = [make_post(owner=user if i % 2 else other_user, title=f"Django {i}") for i in range(6)]
    Vote.objects.create(user=user, post=posts[2])
    top = [Comment.objects.create(post=posts[0], owner=user, content=f"c{i}") for i in range(4)]
    for i in range(3):
        Comment.objects.create(post=posts[0], owner=other_user, parent=top[1], content=f"r{i}")
    top[3].owner = None  # an owner whose account is gone
    top[3].save()
    return posts, top


def next_of(client, path: str) -> str:
    """The path of `path`'s rel="next" link."""
    link = dict((rel, url) for url, rel in LINK.findall(client.get(path).headers["Link"]))["next"]
    parts = urllib.parse.urlsplit(link)
    return f"{parts.path}?{parts.query}"


def routes(client, data) -> dict[str, tuple[str, int]]:
    """{name: (path, queries it runs)}; the caller's row is one of them (authentication)."""
    posts, top = data
    comments = f"/posts/{posts[0].pk}/comments"
    return {
        "list": ("/posts/?limit=2", 2),
        # A search also takes one of the caller's reads in progress (api/read_budget.py), in its
        # own statement (here in a savepoint, released: the test runs in a transaction).
        "search": ("/posts/?limit=2&search=ango%201", 4),
        "top": ("/posts/?limit=2&sort=top", 2),
        "cursor page": (next_of(client, "/posts/?limit=2"), 2),
        "top cursor page": (next_of(client, "/posts/?limit=2&sort=top"), 2),
        "search cursor page": (next_of(client, "/posts/?limit=1&search=django"), 4),
        "get one": (f"/posts/{posts[1].pk}", 2),
        "users me": ("/users/me", 1),
        "users id": (f"/users/{posts[0].owner_id}", 1),  # public: the caller is not read
        "comments": (f"{comments}?limit=2", 3),  # the user, the post's visibility, the page
        "comments cursor page": (next_of(client, f"{comments}?limit=2"), 3),
        "replies": (f"{comments}?parent_id={top[1].pk}&limit=2", 4),  # and the parent's check
        "replies cursor page": (next_of(client, f"{comments}?parent_id={top[1].pk}&limit=2"), 4),
    }


@pytest.fixture
def sql_built(monkeypatch):
    """The number of SQL statements the ORM's compiler has built so far (a list of one int)."""
    built = [0]
    as_sql = compiler.SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        built[0] += 1
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(compiler.SQLCompiler, "as_sql", counting)
    return built


def test_every_read_builds_no_sql_once_warm_and_runs_its_pinned_queries(
    auth_client, data, sql_built, settings
):
    # A search slower than read_budget.FREE adds one statement, its time's charge (the machine's
    # speed decides): the reads' own queries are pinned here, test_read_budget.py times them.
    settings.EXPENSIVE_READ_SHARE = 100
    for name, (path, count) in routes(auth_client, data).items():
        assert auth_client.get(path).status_code == 200, name  # warm: compiled at first use
        built = sql_built[0]
        with CaptureQueriesContext(connection) as queries:
            answer = auth_client.get(path)
        assert answer.status_code == 200, name
        assert (name, len(queries)) == (name, count)
        assert (name, sql_built[0] - built) == (name, 0)


def generic_page(self, ordering, query):
    """KeysetPagination.paginate_queryset's page: the QuerySet path."""
    queryset = self.filter_queryset(self.get_queryset())
    return keyset_page(
        queryset, ordering, cursor=query["cursor"], skip=query.get("skip", 0), limit=query["limit"]
    )


def test_answers_are_the_querysets_byte_for_byte(auth_client, data, monkeypatch):
    paths = {name: path for name, (path, _) in routes(auth_client, data).items() if "users" not in name}
    paths["empty search"] = "/posts/?search=nothing%25_"
    prefer = {"Prefer": "count=exact"}  # on the list only: it spends the read budget
    paths["prefer count"] = "/posts/?limit=2&sort=top"
    paths["prefer count comments"] = f"/posts/{data[0][0].pk}/comments?limit=2"
    compiled = {
        name: auth_client.get(path, headers=prefer if "prefer" in name else {})
        for name, path in paths.items()
    }
    monkeypatch.setattr(PostViewSet, "compiled_page", generic_page)
    monkeypatch.setattr(PostCommentsViewSet, "compiled_page", generic_page)
    for name, path in paths.items():
        generic = auth_client.get(path, headers=prefer if "prefer" in name else {})
        assert compiled[name].status_code == generic.status_code == 200, name
        assert compiled[name].content == generic.content, name
        assert comparable_headers(compiled[name]) == comparable_headers(generic), name


def comparable_headers(response):
    """The response's headers less X-Request-ID, each Link cursor cut to its payload.

    A cursor is `payload:timestamp:signature` (django.core.signing.dumps); two answers a second
    apart carry the same payload under a different timestamp, so only the payload is compared.
    """
    headers = {k: v for k, v in response.headers.items() if k != "X-Request-ID"}
    if "Link" in headers:
        headers["Link"] = re.sub(r"(cursor=[^&>%]*)%3A[^&>]*", r"\1", headers["Link"])
    return headers

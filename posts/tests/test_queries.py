"""The hot reads compiled from their QuerySets (posts/queries.py, api/authentication.py's
active_user) run the ORM's own SQL and give what the querysets give, instance for instance, for
every kind of post and user; the list's query parsed once per distinct query is the
serializer's."""

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_init
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request

from api.authentication import ACTIVE_USER, active_user
from api.endpoints import parse_query
from api.errors import RequestValidationError
from api.pagination import KeysetPagination
from api.paging import NEXT, PREV, _encode, keyset_page
from moderation import services
from posts.models import Post
from posts.queries import ONE, ORDERINGS, PAGES, offset_page, visible_post
from posts.serializers import PostListQuerySerializer
from posts.views import PostViewSet
from votes import counter
from votes.models import Vote, VoteDelta

pytestmark = pytest.mark.django_db


@pytest.fixture
def posts(user, other_user, make_user, make_post):
    """Published posts and drafts of two users, a hidden post of each, votes on some: the kinds
    visible_to() tells apart. Created one at a time (created_at ties are broken by id)."""
    moderator = make_user("mod@example.com", is_staff=True)
    made = []
    for i in range(12):
        owner = user if i % 3 else other_user
        made.append(make_post(owner=owner, title=f"p{i}", published=i % 4 != 1))
    for post in made[::5]:
        Vote.objects.create(user=user, post=post)
    # A vote still pending as a delta (as when another voter held the post's row).
    with transaction.atomic(), counter.suspended():
        Vote.objects.create(user=other_user, post=made[7])
        VoteDelta.objects.create(post=made[7], delta=1)
    services.hide(moderator=moderator, posts=[made[2], made[3]], reason="spam")
    return made


def as_tuples(rows):
    """Every column of each post and of its owner: equal tuples are equal instances."""
    return [
        (
            [getattr(post, f.attname) for f in Post._meta.concrete_fields],
            [getattr(post.owner, f.attname) for f in post.owner._meta.concrete_fields],
            post._state.db,
            post._state.adding,
            post.vote_count,
        )
        for post in rows
    ]


@pytest.mark.parametrize("sort", ["new", "top"])
@pytest.mark.parametrize(("skip", "limit"), [(0, 10), (0, 0), (0, 100), (3, 4), (9, 5), (50, 10)])
def test_offset_page_are_the_orm_pages(posts, user, other_user, sort, skip, limit):
    ordering = ORDERINGS[sort]
    for who in (user, other_user):
        expected = keyset_page(
            Post.objects.visible_to(who).with_vote_count(), ordering, cursor=None, skip=skip, limit=limit
        )
        page = offset_page(who, ordering, skip=skip, limit=limit)
        assert as_tuples(page.rows) == as_tuples(expected.rows)
        assert (page.has_next, page.has_prev) == (expected.has_next, expected.has_prev)


def test_offset_page_owners_cost_no_query(posts, user):
    page = offset_page(user, ORDERINGS["new"], skip=0, limit=10)
    with CaptureQueriesContext(connection) as queries:
        emails = {post.owner.email for post in page.rows}
    assert emails == {"owner@example.com", "other@example.com"}
    assert len(queries) == 0


def test_visible_post_is_the_orm_post(posts, user, other_user):
    ids = [post.pk for post in posts] + [max(post.pk for post in posts) + 1]
    for who in (user, other_user):
        for post_id in ids:
            expected = Post.objects.visible_to(who).with_vote_count().filter(pk=post_id).first()
            found = visible_post(who, post_id)
            assert as_tuples([found] if found else []) == as_tuples([expected] if expected else [])
    # What the fixture holds: hidden posts and others' drafts are not found, own drafts are.
    assert visible_post(user, posts[2].pk) is None
    assert visible_post(other_user, posts[1].pk) is None
    assert visible_post(user, posts[1].pk) is not None
    # The count adds the pending delta to vote_total.
    assert (visible_post(user, posts[7].pk).vote_total, visible_post(user, posts[7].pk).vote_count) == (0, 1)


def test_active_user_is_the_orm_user(user, other_user, make_user):
    inactive = make_user("gone@example.com", is_active=False)
    for someone in (user, other_user):
        found = active_user(someone.pk)
        assert found is not None
        assert [getattr(found, f.attname) for f in found._meta.concrete_fields] == [
            getattr(someone, f.attname) for f in someone._meta.concrete_fields
        ]
        assert (found._state.db, found._state.adding) == ("default", False)
    assert active_user(inactive.pk) is None
    assert active_user(inactive.pk + 1000) is None


def test_compiled_instances_are_the_orms_attribute_for_attribute(posts, user):
    """The compiled reads make their instances without ``Model.__init__`` (api/compiled.py's
    _from_db): each holds the ORM's instance's attributes, in the same order, with the same
    values and state, its owner's too."""
    for post in posts:
        expected = Post.objects.visible_to(user).with_vote_count().filter(pk=post.pk).first()
        found = visible_post(user, post.pk)
        if expected is None:
            assert found is None
            continue
        for mine, orms in ((found, expected), (found.owner, expected.owner)):
            assert type(mine) is type(orms)
            assert list(vars(mine)) == list(vars(orms))
            assert {k: v for k, v in vars(mine).items() if k != "_state"} == {
                k: v for k, v in vars(orms).items() if k != "_state"
            }
            assert (mine._state.db, mine._state.adding) == (orms._state.db, orms._state.adding)
    found = active_user(user.pk)
    assert list(vars(found)) == list(vars(type(user).objects.get(pk=user.pk)))


def test_a_model_signal_receiver_sees_the_compiled_instances(posts, user):
    """With a ``post_init`` receiver connected, the compiled reads make their instances through
    ``Model.from_db`` again, so the receiver is called for each, as for the ORM's."""
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append((sender, instance.pk))

    post_init.connect(receiver)
    try:
        found = visible_post(user, posts[0].pk)
    finally:
        post_init.disconnect(receiver)
    assert (Post, found.pk) in seen and (type(user), found.owner_id) in seen


@pytest.mark.parametrize(
    "query",
    [
        "",
        "limit=0",
        "limit=7",
        "limit=100",
        "limit=101",
        "limit=007",
        "limit=1&limit=3",
        "limit=999999999999999999",
        "limit=9223372036854775807",
        "limit=9223372036854775808",
        "limit=99999999999999999999999",
        "limit=",
        "limit=+5",
        "limit=%205",
        "limit=5.0",
        "limit=-1",
        "limit=%D9%A3",  # an Arabic-Indic digit: isdigit() but not ASCII
        "limit=5&skip=2",
        "skip=3",
        "sort=top",
        "search=x",
        "other=1",
        # A cursor is checked on every request; the other parameters come from the cache.
        "cursor={new}",
        "cursor={new}&limit=3&search=x",
        "cursor={top}&sort=top",
        "cursor={top}",  # another order's cursor
        "cursor={new}&sort=top",
        "cursor={new}&limit=-1",  # a bad parameter beside a good cursor
        "cursor={new}x",  # a bad signature
        "cursor={new}x&limit=-1&sort=old",  # every error at once
        "cursor=",
        "cursor={new}&cursor={top}",
        "cursor={malformed}",
        "limit=3&cursor={new}",
    ],
)
def test_list_query_is_the_serializers(query):
    cursors = {
        "new": _encode(ORDERINGS["new"], NEXT, ["2026-01-02T03:04:05.678901+00:00", 5], "/posts/"),
        "top": _encode(ORDERINGS["top"], PREV, [3, "2026-01-02T03:04:05+00:00", 5], "/posts/"),
        "malformed": _encode(ORDERINGS["new"], NEXT, ["yesterday", 5], "/posts/"),
    }
    request = Request(RequestFactory().get(f"/posts/?{query.format(**cursors)}"))

    def list_query():
        return KeysetPagination().parse_query(request, PostViewSet())

    try:
        expected = parse_query(PostListQuerySerializer, request.query_params)
    except RequestValidationError as error:
        for _ in range(2):  # a refusal is never cached
            with pytest.raises(RequestValidationError) as raised:
                list_query()
            assert raised.value.detail == error.detail
    else:
        first = list_query()
        first["limit"] = -1  # what a caller does to its copy does not reach the next one
        assert list_query() == expected


@pytest.mark.parametrize("sort", ["new", "top"])
def test_page_runs_the_querysets_sql(user, sort):
    """The compiled page is the ORM's SQL of the queryset, sliced: change visible_to() or the
    order and the fast path changes with it."""
    descending = [f"-{name}" for name in ORDERINGS[sort].fields]
    for skip, limit in ((0, 11), (30, 6)):
        orm = (
            Post.objects.visible_to(user)
            .with_vote_count()
            .order_by(*descending)[skip : skip + limit]
            .query.sql_with_params()
        )
        sql, params = PAGES[sort].sql_with_params(user_id=user.pk, offset=skip, limit=limit)
        assert (sql, tuple(params)) == orm


def test_one_post_and_active_user_run_the_querysets_sql(user):
    orm = Post.objects.visible_to(user).with_vote_count().filter(pk=7).query.sql_with_params()
    sql, params = ONE.sql_with_params(user_id=user.pk, post_id=7)
    assert (sql, tuple(params)) == orm
    orm = type(user)._default_manager.filter(pk=user.pk, is_active=True).query.sql_with_params()
    sql, params = ACTIVE_USER.sql_with_params(user_id=user.pk)
    assert (sql, tuple(params)) == orm


def test_a_changed_queryset_changes_the_compiled_sql(user):
    from api.compiled import CompiledQuery

    plain = CompiledQuery(lambda user_id: Post.objects.visible_to(type(user)(pk=user_id)), "user_id")
    narrower = CompiledQuery(
        lambda user_id: Post.objects.visible_to(type(user)(pk=user_id)).filter(vote_total__gt=0), "user_id"
    )
    assert plain.sql_with_params(user_id=1)[0] != narrower.sql_with_params(user_id=1)[0]
    assert '"posts_post"."vote_total" > ' in narrower.sql_with_params(user_id=1)[0].split("WHERE", 1)[1]


def test_a_parameter_the_sql_does_not_carry_is_refused():
    from api.compiled import CompiledQuery

    with pytest.raises(ValueError, match="one parameter"):
        CompiledQuery(lambda post_id: Post.objects.filter(pk__gt=0), "post_id").compile()
    with pytest.raises(ValueError, match="one parameter"):  # twice
        CompiledQuery(lambda post_id: Post.objects.filter(pk=post_id, owner_id=post_id), "post_id").compile()


@pytest.mark.parametrize("sort", ["new", "top"])
@pytest.mark.parametrize("search", ["", "p1", "P", "%", "_", "\\", "nothing"])
def test_cursor_and_search_pages_are_the_orm_pages(posts, user, other_user, sort, search):
    """Every shape of the list's page (first, after and before each row, from the far end), with
    and without a search, is keyset_page's of the view's QuerySet."""
    from api.paging import NEXT, PREV, Cursor
    from posts.queries import matching, page

    ordering = ORDERINGS[sort]
    for who in (user, other_user):
        queryset = Post.objects.visible_to(who).with_vote_count()
        if search:
            queryset = matching(queryset, search)
        cursors = [None, Cursor(sort, PREV, ())]
        for row in queryset:
            position = tuple(ordering.values(row))
            cursors += [Cursor(sort, NEXT, position), Cursor(sort, PREV, position)]
        for cursor in cursors:
            for skip, limit in ((0, 3), (1, 2), (0, 100)):
                expected = keyset_page(queryset, ordering, cursor=cursor, skip=skip, limit=limit)
                found = page(who, ordering, cursor=cursor, skip=skip, limit=limit, search=search)
                assert as_tuples(found.rows) == as_tuples(expected.rows)
                assert (found.has_next, found.has_prev) == (expected.has_next, expected.has_prev)


def test_search_is_written_into_its_statement_escaped_as_the_lookup_escapes_it(user):
    """The search's text is a quoted literal of the SQL (api.compiled._written_in), not a
    parameter: the statement, once its values are in, is the ORM's to the byte."""
    from api.read_budget import search_guard
    from posts.queries import SEARCH

    # The slot the statement takes (api.read_budget.search_guard), with values of search_on_primary's.
    guard = {"slot_key": 7, "slots": 2, "reader": user.pk, "burst": 1.0}
    for search in ("ab", "50%_off\\", "it's", "'); DROP TABLE posts_post; --", "%s", "%%s"):
        orm_sql, orm_params = (
            Post.objects.visible_to(user)
            .with_vote_count()
            .filter(title__icontains=search)
            .filter(search_guard(**guard))
            .order_by("-created_at", "-id")[0:11]
            .query.sql_with_params()
        )
        query = SEARCH.query(ORDERINGS["new"], "first")
        sql, params = query.sql_with_params(user_id=user.pk, search=search, offset=0, limit=11, **guard)
        assert len(params) == len(orm_params) - 1
        assert not [value for value in params if isinstance(value, str)]
        assert connection.ops.compose_sql(sql, params) == connection.ops.compose_sql(orm_sql, orm_params)


def test_a_cursor_position_of_another_shape_is_the_contracts_422(user):
    from api.paging import NEXT, Cursor
    from posts.queries import page

    with pytest.raises(RequestValidationError):
        page(user, ORDERINGS["top"], cursor=Cursor("top", NEXT, ("x", "y")), skip=0, limit=10)


@pytest.mark.parametrize("search", ["~", "%%%", "12", "_", "\\", "#1", "%_", "1.5"])
def test_a_search_where_case_cannot_matter_finds_what_the_case_blind_one_finds(user, make_post, search):
    """Such a search (no letter with another case, no run the trigram index reads) is looked for
    as it is, a cheaper scan; its rows are the case-blind search's."""
    from posts.queries import ORDERINGS, case_matters, matching, page

    titles = ["Été ~ 12", "STRASSE %%% 1.5", "straße_12", "\u2170 ~ roman", "#1 \\ back", "plain", "%_ 12"]
    for title in titles:
        make_post(title=title, owner=user)
    assert not case_matters(search)
    visible = Post.objects.visible_to(user).with_vote_count()
    blind = list(matching(visible, search, ignore_case=True).order_by("id").values_list("title", flat=True))
    assert blind  # the titles hold every one of these searches
    assert list(matching(visible, search).order_by("id").values_list("title", flat=True)) == blind
    found = page(user, ORDERINGS["new"], cursor=None, skip=0, limit=100, search=search)
    assert sorted(post.title for post in found.rows) == sorted(blind)


@pytest.mark.parametrize("search", ["a", "ß", "\u2170", "É!", "cat", "2024", "C++ tips"])
def test_case_matters_where_a_letter_has_another_case_or_the_index_serves_it(search):
    from posts.queries import case_matters

    assert case_matters(search)

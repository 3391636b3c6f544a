"""KeysetPagination reused: a list that declares ``pagination_class``, an ordering and a
queryset gets the contract's paging with no paging code of its own (docs/api.md, "HTTP semantics"), and the
polling links a list that clients poll asks for by setting ``poll_next`` or ``poll_prev``."""

import re
import urllib.parse

import pytest
from django.urls import include, path
from rest_framework import mixins, serializers

from api.endpoints import EndpointViewSet
from api.pagination import KeysetPagination, PageQuerySerializer
from api.paging import Ordering
from posts.models import Post
from testing.assertions import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


class TitleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = ["id", "title"]


class TitleList(mixins.ListModelMixin, EndpointViewSet):
    """Every post's title, newest first: paging by declaration only."""

    pagination_class = KeysetPagination
    ordering = Ordering("new", ("created_at", "id"))
    queryset = Post.objects.all()
    serializer_class = TitleSerializer


class PollNext(KeysetPagination):
    poll_next = True


class PollPrev(KeysetPagination):
    poll_prev = True


class OldestFirstTitles(TitleList):
    pagination_class = PollNext


class NewsTitles(TitleList):
    pagination_class = PollPrev


class OldestFirst(TitleList):
    ordering = Ordering("old", ("created_at", "id"), ascending=True)


class TitleQuery(PageQuerySerializer):
    owner_id = serializers.IntegerField(required=False, default=None)


class ByOwner(KeysetPagination):
    scope_parameters = ("owner_id",)


class TitlesByOwner(TitleList):
    """One list per ``owner_id``: a cursor of one owner's list is refused on another's."""

    pagination_class = ByOwner
    query_serializer_class = TitleQuery

    def list(self, request, *args, **kwargs):
        self.paginator.parse_query(request, self)  # list_params, before filter_queryset reads them
        return super().list(request, *args, **kwargs)

    def filter_queryset(self, queryset):
        return queryset.filter(owner_id=self.list_params["owner_id"])


urlpatterns = [
    path("titles/", TitleList.as_view({"get": "list"}), name="titles"),
    path("polled/", OldestFirstTitles.as_view({"get": "list"}), name="polled"),
    path("news/", NewsTitles.as_view({"get": "list"}), name="news"),
    path("oldest/", OldestFirst.as_view({"get": "list"}), name="oldest"),
    path("by-owner/", TitlesByOwner.as_view({"get": "list"}), name="by-owner"),
    path("", include("config.urls")),  # /posts/, whose cursors these lists must refuse
]


def links(answer) -> dict[str, str]:
    found = {}
    for url, rel in LINK.findall(answer.headers.get("Link", "")):
        parts = urllib.parse.urlsplit(url)
        found[rel] = f"{parts.path}?{parts.query}"
    return found


def titles(answer) -> list[str]:
    assert answer.status_code == 200, answer.content
    return [item["title"] for item in answer.json()]


@pytest.fixture
def five(make_post):
    return [make_post(title=f"t{i}") for i in range(5)]


def test_pages_by_cursor_both_ways(auth_client, five):
    first = auth_client.get("/titles/?limit=2")
    assert titles(first) == ["t4", "t3"]
    assert set(links(first)) == {"next"}
    second = auth_client.get(links(first)["next"])
    assert titles(second) == ["t2", "t1"]
    assert set(links(second)) == {"next", "prev"}
    assert "limit=2" in links(second)["next"]
    last = auth_client.get(links(second)["next"])
    assert titles(last) == ["t0"]
    assert set(links(last)) == {"prev"}
    assert titles(auth_client.get(links(last)["prev"])) == ["t2", "t1"]
    assert titles(auth_client.get("/titles/?limit=2&skip=3")) == ["t1", "t0"]


def test_limit_zero_is_empty_and_counts_on_request(auth_client, five):
    answer = auth_client.get("/titles/?limit=0")
    assert titles(answer) == []
    assert "X-Total-Count" not in answer.headers
    counted = auth_client.get("/titles/?limit=1", headers={"Prefer": "count=exact"})
    assert counted.headers["X-Total-Count"] == "5"
    assert counted.headers["Preference-Applied"] == "count=exact"


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("limit=-1", ["query", "limit"]),
        ("limit=x", ["query", "limit"]),
        ("limit=", ["query", "limit"]),
        ("skip=-1", ["query", "skip"]),
        ("cursor=nonsense", ["query", "cursor"]),
    ],
)
def test_bad_paging_is_the_contracts_422(auth_client, five, query, loc):
    assert_error(auth_client.get(f"/titles/?{query}"), 422, loc=loc)


def test_a_cursor_works_only_on_the_list_that_issued_it(auth_client, five):
    from_titles = links(auth_client.get("/titles/?limit=2"))["next"]
    cursor = urllib.parse.parse_qs(urllib.parse.urlsplit(from_titles).query)["cursor"][0]
    assert_error(auth_client.get("/polled/", {"cursor": cursor}), 422, loc=["query", "cursor"])
    assert_error(auth_client.get("/posts/", {"cursor": cursor}), 422, loc=["query", "cursor"])


def test_a_polled_lists_last_page_links_to_what_comes_after_it(auth_client, five, make_post):
    last = auth_client.get("/polled/?skip=3")
    assert titles(last) == ["t1", "t0"]
    poll = links(last)["next"]
    assert titles(auth_client.get(poll)) == []


def test_a_news_lists_first_page_links_to_what_is_newer(auth_client, five, make_post):
    first = auth_client.get("/news/?limit=2")
    assert titles(first) == ["t4", "t3"]
    poll = links(first)["prev"]
    assert titles(auth_client.get(poll)) == []
    make_post(title="t5")
    assert titles(auth_client.get(poll)) == ["t5"]
    assert "prev" not in links(auth_client.get("/titles/?limit=2"))


def test_an_ascending_ordering_pages_oldest_first_both_ways(auth_client, five):
    first = auth_client.get("/oldest/?limit=2")
    assert titles(first) == ["t0", "t1"]
    second = auth_client.get(links(first)["next"])
    assert titles(second) == ["t2", "t3"]
    last = auth_client.get(links(second)["next"])
    assert titles(last) == ["t4"]
    assert set(links(last)) == {"prev"}
    assert titles(auth_client.get(links(last)["prev"])) == ["t2", "t3"]
    assert titles(auth_client.get(links(second)["prev"])) == ["t0", "t1"]


def test_a_cursor_is_bound_to_the_scope_parameters_of_its_list(
    auth_client, five, user, other_user, make_post
):
    make_post(owner=other_user, title="o0")
    first = auth_client.get(f"/by-owner/?limit=2&owner_id={user.pk}")
    assert titles(first) == ["t4", "t3"]
    cursor = urllib.parse.parse_qs(urllib.parse.urlsplit(links(first)["next"]).query)["cursor"][0]
    assert titles(auth_client.get("/by-owner/", {"owner_id": user.pk, "cursor": cursor})) == [
        "t2",
        "t1",
        "t0",
    ]
    answer = auth_client.get("/by-owner/", {"owner_id": other_user.pk, "cursor": cursor})
    assert_error(answer, 422, loc=["query", "cursor"])


class NoCursorQuery(serializers.Serializer):
    limit = serializers.IntegerField(default=10)


class CheckedQuery(PageQuerySerializer):
    """A query whose own check raises Django's ValidationError, which DRF answers as a 422."""

    def validate(self, attrs):
        from django.core.exceptions import ValidationError

        if attrs["cursor"] is not None and attrs["limit"] == 3:
            raise ValidationError("not three with a cursor")
        return attrs


def _query_of(serializer_class, query: str):
    from django.test import RequestFactory
    from rest_framework.request import Request

    view = TitleList()
    view.query_serializer_class = serializer_class  # type: ignore[attr-defined]
    return KeysetPagination().parse_query(Request(RequestFactory().get(f"/titles/?{query}")), view)


def test_a_cursor_is_checked_as_the_whole_query_would_be(user, make_post):
    """A cursor page reads its other parameters from the cache and checks its cursor alone: a
    query serializer without a cursor ignores it, and a Django ValidationError of the
    serializer's own check is the contract's 422, as on a page without a cursor."""
    from api.errors import RequestValidationError
    from api.paging import NEXT, _encode

    assert _query_of(NoCursorQuery, "limit=5&cursor=anything") == {"limit": 5}
    cursor = _encode(
        Ordering("new", ("created_at", "id")), NEXT, ["2026-01-02T03:04:05+00:00", 5], "/titles/"
    )
    assert _query_of(CheckedQuery, f"limit=4&cursor={cursor}")["limit"] == 4
    with pytest.raises(RequestValidationError) as refused:
        _query_of(CheckedQuery, f"limit=3&cursor={cursor}")
    assert refused.value.detail == {"non_field_errors": ["not three with a cursor"]}


def test_the_shared_query_serializer_has_formatted_its_messages():
    """Threads share one query serializer per class (api.pagination._prototype): what DRF makes
    on first use, such as a validator's message (its lazy_format writes itself on first str()),
    is made before they do."""
    from api.pagination import _prototype
    from api.paging import CursorField

    class Query(serializers.Serializer):
        cursor = CursorField(required=False, default=None)

    field = _prototype(Query).fields["cursor"]
    lazy = [v.message for v in field.validators if type(v.message).__name__ == "lazy_format"]
    assert lazy and all(message.format_string is None for message in lazy)

import pytest

from testing.clients import client_for
from votes.models import Vote

pytestmark = pytest.mark.django_db


def test_list_shape_with_votes(auth_client, user, other_user, make_post):
    post = make_post(title="hello")
    Vote.objects.create(user=user, post=post)
    Vote.objects.create(user=other_user, post=post)
    response = auth_client.get("/posts/")
    assert response.status_code == 200
    [item] = response.json()
    assert set(item) == {"Post", "votes"}
    assert item["votes"] == 2
    assert list(item["Post"]) == ["title", "content", "published", "id", "created_at", "owner_id", "owner"]
    assert item["Post"]["id"] == post.pk
    assert item["Post"]["owner"] == {
        "id": user.pk,
        "email": user.email,
        "created_at": item["Post"]["owner"]["created_at"],
    }


def test_post_without_votes_counts_zero(auth_client, make_post):
    make_post()
    assert auth_client.get("/posts").json()[0]["votes"] == 0


def test_newest_first_and_ties_by_id(auth_client, make_post):
    posts = [make_post(title=f"p{i}") for i in range(5)]
    ids = [item["Post"]["id"] for item in auth_client.get("/posts/").json()]
    # Created in one transaction, the posts share created_at: the id breaks the tie.
    assert ids == [p.pk for p in reversed(posts)]


def test_limit_defaults_to_10_and_caps_at_100(auth_client, user, make_post):
    from posts.models import Post

    Post.objects.bulk_create([Post(owner=user, title=f"p{i}", content="c") for i in range(105)])
    assert len(auth_client.get("/posts/").json()) == 10
    assert len(auth_client.get("/posts/?limit=1000").json()) == 100
    assert auth_client.get("/posts/?limit=0").json() == []


def test_skip_and_limit_page_without_gaps_or_repeats(auth_client, make_post):
    expected = [make_post(title=f"p{i}").pk for i in range(23)][::-1]
    seen = []
    for skip in range(0, 30, 5):
        seen += [item["Post"]["id"] for item in auth_client.get(f"/posts/?limit=5&skip={skip}").json()]
    assert seen == expected


@pytest.mark.parametrize(
    "query",
    [
        "limit=-1",
        "skip=-1",
        "limit=abc",
        "limit=1.5",
        "limit=99999999999999999999",
        "skip=99999999999999999999",
    ],
)
def test_bad_paging_is_422_at_query(auth_client, query):
    response = auth_client.get(f"/posts/?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", query.split("=")[0]]


def test_search_is_case_insensitive_substring_of_title(auth_client, make_post):
    make_post(title="Learning Django")
    make_post(title="FastAPI", content="django in content only")
    titles = [item["Post"]["title"] for item in auth_client.get("/posts/?search=DJANGO").json()]
    assert titles == ["Learning Django"]


@pytest.mark.parametrize(
    ("search", "expected"), [("%", ["100% sure"]), ("_", ["snake_case"]), ("\\", ["back\\slash"])]
)
def test_search_wildcards_are_literal(auth_client, make_post, search, expected):
    for title in ("100% sure", "snake_case", "back\\slash", "plain"):
        make_post(title=title)
    titles = [item["Post"]["title"] for item in auth_client.get("/posts/", {"search": search}).json()]
    assert titles == expected


def test_search_with_nul_is_422(auth_client):
    response = auth_client.get("/posts/?search=%00")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "search"]


def test_drafts_are_listed_only_for_their_owner(auth_client, other_user, make_post):
    mine = make_post(title="my draft", published=False)
    make_post(owner=other_user, title="their draft", published=False)
    public = make_post(owner=other_user, title="public")
    ids = {item["Post"]["id"] for item in auth_client.get("/posts/").json()}
    assert ids == {mine.pk, public.pk}
    other_ids = {item["Post"]["id"] for item in client_for(other_user).get("/posts/").json()}
    assert mine.pk not in other_ids


def test_list_runs_two_queries_whatever_the_page_size(
    auth_client, user, other_user, make_post, django_assert_max_num_queries
):
    for i in range(30):
        post = make_post(owner=other_user if i % 2 else user)
        Vote.objects.create(user=user, post=post)
    with django_assert_max_num_queries(2):
        response = auth_client.get("/posts/?limit=30")
    assert len(response.json()) == 30

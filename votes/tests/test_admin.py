import pytest

from votes.models import Vote

pytestmark = pytest.mark.django_db

VOTES = "/admin/votes/vote/"


@pytest.fixture
def votes(user, other_user, make_post) -> tuple[Vote, Vote]:
    first, second = make_post(title="first"), make_post(title="second")
    return Vote.objects.create(user=other_user, post=first), Vote.objects.create(user=other_user, post=second)


def test_vote_list_shows_user_post_and_date(admin_client, votes):
    page = admin_client.get(VOTES).content.decode()
    for column in ("User", "Post", "Created at"):
        assert f">{column}<" in page.replace("</a>", "<"), column
    rows = page.split("</tr>")
    [row] = [r for r in rows if ">first<" in r]
    assert "other@example.com" in row
    assert 'class="field-created_at' in row


def test_staff_delete_a_vote(admin_client, votes):
    doomed, kept = votes
    response = admin_client.post(f"{VOTES}{doomed.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert list(Vote.objects.all()) == [kept]


def test_staff_cannot_edit_a_vote_into_a_duplicate(admin_client, votes):
    first, second = votes
    page = admin_client.get(f"{VOTES}{second.pk}/change/")
    assert page.status_code == 200
    assert 'name="post"' not in page.content.decode()  # shown, not editable
    response = admin_client.post(
        f"{VOTES}{second.pk}/change/", {"user": first.user_id, "post": first.post_id}
    )
    assert response.status_code == 403
    second.refresh_from_db()
    assert (second.user_id, second.post_id) != (first.user_id, first.post_id)
    assert Vote.objects.count() == 2


def test_staff_cannot_cast_a_vote(admin_client, votes):
    first, _ = votes
    response = admin_client.post(f"{VOTES}add/", {"user": first.user_id, "post": first.post_id})
    assert response.status_code == 403
    assert Vote.objects.count() == 2


def test_vote_search_says_it_needs_the_whole_address(admin_client, votes):
    page = admin_client.get(VOTES).content.decode()
    assert "The voter&#x27;s whole email address (exact match, any case)." in page
    found = admin_client.get(VOTES, {"q": "Other@Example.com"}).content.decode()
    assert ">first<" in found
    assert ">first<" not in admin_client.get(VOTES, {"q": "other"}).content.decode()

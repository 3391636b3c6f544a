import pytest

from comments.models import Comment


@pytest.fixture
def post(make_post):
    """A published post of owner@example.com."""
    return make_post()


@pytest.fixture
def make_comment(user):
    """`make_comment(post, owner=None, parent=None, content="a comment") -> Comment`, saved."""

    def make(post, owner=None, parent=None, content="a comment") -> Comment:
        return Comment.objects.create(post=post, owner=owner or user, parent=parent, content=content)

    return make


@pytest.fixture
def moderator(make_user):
    return make_user("mod@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def hide_post(moderator):
    """`hide_post(post)`: staff hide it from the moderation queue."""
    from moderation import services

    def hide(post) -> None:
        assert services.hide(moderator=moderator, posts=[post], reason="spam") == 1

    return hide

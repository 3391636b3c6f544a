"""Which posts a user may see, stated once: every read of posts starts here."""

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

if TYPE_CHECKING:
    from posts.models import Post  # noqa: F401 (the QuerySet's model, for mypy)


class PostQuerySet(QuerySet["Post"]):
    """``Post.objects``: posts, with the visibility rule as a method."""

    def visible_to(self, user: Any) -> "PostQuerySet":
        """Published posts, and the user's own drafts (a draft exists only for its owner), but no
        post that staff have hidden (docs/api.md, "Reporting a post": 404 for everyone, the owner included),
        each with its owner in the same query. `user` is a user instance (its ``pk`` is read).
        A post's vote count is its own `vote_total` column, kept exact by database triggers on
        every vote write (votes/counter.py)."""
        return self.select_related("owner").filter(Q(published=True) | Q(owner=user.pk), hidden=False)

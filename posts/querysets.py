"""Which posts a user may see, stated once: every read of posts starts here."""

from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import BigIntegerField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

if TYPE_CHECKING:
    from posts.models import Post  # noqa: F401 (the QuerySet's model, for mypy)


class PostQuerySet(QuerySet["Post"]):
    """``Post.objects``: posts, with the visibility rule as a method."""

    def visible_to(self, user: Any) -> "PostQuerySet":
        """Published posts, and the user's own drafts (a draft exists only for its owner), but no
        post that staff have hidden (docs/api.md, "Reporting a post": 404 for everyone, the owner included),
        each with its owner in the same query. `user` is a user instance (its ``pk`` is read).
        Each post has ``vote_count``, its number of votes (``with_vote_count``)."""
        return (
            self.select_related("owner")
            .filter(Q(published=True) | Q(owner=user.pk), hidden=False)
            .with_vote_count()
        )

    def with_vote_count(self) -> "PostQuerySet":
        """Each post with ``vote_count``: its ``vote_total`` plus its pending vote deltas, the two
        parts the database triggers keep (votes/triggers.py), read in the same statement so the
        sum is exactly the votes committed before it. A post without deltas costs one probe of
        their index."""
        pending = (
            apps.get_model("votes", "VoteDelta")
            ._default_manager.filter(post=OuterRef("pk"))
            .order_by()
            .values("post")
            .annotate(total=Sum("delta"))
            .values("total")
        )
        return self.annotate(
            vote_count=ExpressionWrapper(
                F("vote_total") + Coalesce(Subquery(pending), 0), output_field=BigIntegerField()
            )
        )

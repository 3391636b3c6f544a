"""Which posts a user may see, stated once: every read of posts starts here."""

from functools import cache
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import BigIntegerField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

if TYPE_CHECKING:
    from posts.models import Post  # noqa: F401 (the QuerySet's model, for mypy)


class PostQuerySet(QuerySet["Post"]):
    """``Post.objects``: posts, with the visibility rule and the vote count as methods."""

    def visible_to(self, user: Any) -> "PostQuerySet":
        """Published posts, and the user's own drafts (a draft exists only for its owner), but no
        post that staff have hidden (docs/api.md, "Reporting a post": 404 for everyone, the owner included),
        each with its owner in the same query. `user` is a user instance (its ``pk`` is read).
        A read that shows counts adds ``with_vote_count()``; an existence check does not need it."""
        return self.select_related("owner").filter(Q(published=True) | Q(owner=user.pk), hidden=False)

    def with_vote_count(self) -> "PostQuerySet":
        """Each post with ``vote_count``: its ``vote_total`` plus its pending vote deltas, the two
        parts the database triggers keep (votes/triggers.py), read in the same statement so the
        sum is exactly the votes committed before it. A post without deltas costs one probe of
        their index."""
        return self.annotate(vote_count=_vote_count())


@cache
def _vote_count() -> ExpressionWrapper:
    # Built once: annotate() resolves a copy of it for each query.
    pending = (
        apps.get_model("votes", "VoteDelta")
        ._default_manager.filter(post=OuterRef("pk"))
        .order_by()
        .values("post")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    return ExpressionWrapper(F("vote_total") + Coalesce(Subquery(pending), 0), output_field=BigIntegerField())

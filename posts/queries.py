from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from posts.models import Post
from votes.models import Vote


def visible_posts(user: User) -> QuerySet[Post]:
    """Published posts, and the user's own drafts: a draft exists only for its owner."""
    return Post.objects.filter(Q(published=True) | Q(owner=user))


def with_votes(posts: QuerySet[Post]) -> QuerySet[Post]:
    """Each post with its owner and its vote count, in the same query.

    The count is a correlated subquery, so PostgreSQL counts votes only for the rows of the
    page it returns (through the vote's post index), whatever the size of the tables.
    """
    vote_count = (
        Vote.objects.filter(post=OuterRef("pk")).order_by().values("post").annotate(n=Count("*")).values("n")
    )
    return posts.select_related("owner").annotate(
        vote_count=Coalesce(Subquery(vote_count, output_field=IntegerField()), 0)
    )

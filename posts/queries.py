from django.db.models import F, Q, QuerySet

from accounts.models import User
from posts.models import Post


def visible_posts(user: User) -> QuerySet[Post]:
    """Published posts, and the user's own drafts: a draft exists only for its owner."""
    return Post.objects.filter(Q(published=True) | Q(owner=user))


def with_votes(posts: QuerySet[Post]) -> QuerySet[Post]:
    """Each post with its owner and its vote count, in the same query.

    The count is the post's own column, kept exact by database triggers on every vote write,
    so a page costs the same whatever the number of votes, and sorting by it uses an index.
    """
    return posts.select_related("owner").annotate(vote_count=F("vote_total"))

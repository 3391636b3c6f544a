from django.db.models import Q, QuerySet

from accounts.models import User
from api.paging import Ordering
from posts.models import Post

# The list's orders (CONTRACT.md §4 and §7): each has an index of its own (posts.models.Post.Meta).
ORDERINGS = {
    "new": Ordering("new", ("created_at", "id")),
    "top": Ordering("top", ("vote_total", "created_at", "id")),
}


def visible_posts(user: User) -> QuerySet[Post]:
    """Published posts, and the user's own drafts (a draft exists only for its owner), but no post
    that staff have hidden (CONTRACT.md §7.3: 404 for everyone, the owner included), each with
    its owner in the same query. A post's vote count is its own `vote_total` column, kept exact by
    database triggers on every vote write (votes/migrations/0002_vote_counter.py)."""
    return Post.objects.select_related("owner").filter(Q(published=True) | Q(owner=user), hidden=False)

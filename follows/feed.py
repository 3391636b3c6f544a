"""The home feed's query (CONTRACT.md §7.5): fan-out on read, one SQL statement per page.

A post is written once, whoever follows its author, so a post by an account with a million
followers costs what anyone's costs. A feed page is read at request time from PostgreSQL, the
only store: no timeline to rebuild, nothing that can lag behind a deactivation, a hidden post or
a draft.

The page is the plain query: the published, not hidden posts whose author is the caller or one
of the caller's followees, the author active, newest first, ``limit + 1`` of them after the
cursor (api.paging.keyset_page). PostgreSQL plans it per caller from the follow statistics:
for a caller who follows few users it reads those users' posts off the partial index
``post_feed`` (owner, created_at DESC, id DESC; published and not hidden), for one who follows
many it walks the newest-first index ``post_newest_first`` keeping the followees' posts (a hash
of their ids). bench/feed.py measures it against two hand-written plans (a per-author LATERAL
merge, and that merge below 300 followees with the walk above): the plain query was faster than
both for readers of 10, 1,000 and 10,000 users at 1M posts (bench/RESULTS.md).
"""

from django.db.models import Q, QuerySet

from api.paging import Ordering
from follows.models import Follow
from posts.models import Post

ORDERING = Ordering("feed", ("created_at", "id"))


def feed_posts(user_id: int) -> QuerySet[Post]:
    """The feed of user `user_id`: the published, not hidden posts by the user or by an active
    user they follow, with their owners, unordered (api.paging.keyset_page orders and pages
    them)."""
    followees = Follow.objects.filter(follower_id=user_id).values("followee_id")
    return (
        Post.objects.select_related("owner")
        .filter(published=True, hidden=False, owner__is_active=True)
        .filter(Q(owner_id=user_id) | Q(owner_id__in=followees))
    )

"""The posts list's orders, and the two reads every client makes most, compiled from
``Post.objects.visible_to`` (api/compiled.py): a page by offset and a post by id."""

from accounts.models import User
from api.compiled import CompiledQuery
from api.paging import Ordering, Page
from posts.models import Post

# The list's orders (docs/api.md, "Routes" and "HTTP semantics"): each has an index of its own (posts.models.Post.Meta).
ORDERINGS = {
    "new": Ordering("new", ("created_at", "id")),
    "top": Ordering("top", ("vote_total", "created_at", "id")),
}


def _page_query(ordering: Ordering) -> CompiledQuery[Post]:
    return CompiledQuery(
        lambda user_id: (
            Post.objects.visible_to(User(pk=user_id)).with_vote_count().order_by(*ordering.order_by)
        ),
        "user_id",
    )


#: The visible posts in each order (api.paging.keyset_page's order), run with LIMIT and OFFSET.
PAGES = {name: _page_query(ordering) for name, ordering in ORDERINGS.items()}
#: One visible post by id.
ONE = CompiledQuery(
    lambda user_id, post_id: Post.objects.visible_to(User(pk=user_id)).with_vote_count().filter(pk=post_id),
    "user_id",
    "post_id",
)


def offset_page(user: User, ordering: Ordering, *, skip: int, limit: int) -> Page[Post]:
    """``Post.objects.visible_to(user).with_vote_count()`` in `ordering`, `limit` posts after
    `skip`: the page api.paging.keyset_page gives without a cursor, in one query, compiled once."""
    posts = PAGES[ordering.name].run(user_id=user.pk, offset=skip, limit=limit + 1)
    return Page(posts[:limit], has_next=len(posts) > limit, has_prev=skip > 0)


def visible_post(user: User, post_id: int) -> Post | None:
    """``Post.objects.visible_to(user).with_vote_count().filter(pk=post_id)``'s post, with its owner
    and its count, or None."""
    found = ONE.run(user_id=user.pk, post_id=post_id)
    return found[0] if found else None

"""The posts list's orders, and the two reads every client makes most, compiled from
``Post.objects.visible_to`` (api/compiled.py): the list's pages (by offset, after or before a
cursor, with or without a search) and a post by id."""

from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from api.compiled import CompiledPages, CompiledQuery
from api.paging import Cursor, Ordering, Page
from posts.models import Post

# The list's orders (docs/api.md, "Routes" and "HTTP semantics"): each has an index of its own (posts.models.Post.Meta).
ORDERINGS = {
    "new": Ordering("new", ("created_at", "id")),
    "top": Ordering("top", ("vote_total", "created_at", "id")),
}


def matching[Q: QuerySet[Any]](queryset: Q, search: str) -> Q:
    """The list's ``search``: titles holding it, ignoring case, ``%`` and ``_`` literal."""
    return queryset.filter(title__icontains=search)


def _visible(user_id: int) -> QuerySet[Post]:
    return Post.objects.visible_to(User(pk=user_id)).with_vote_count()


#: The list's pages: every visible post, or those matching a search (api.paging.keyset_page's pages).
LIST = CompiledPages(_visible, "user_id")
#: A search is planned for its own text (api.compiled.unprepared): whether the trigram index or
#: the newest-first walk is cheaper depends on it.
SEARCH = CompiledPages(
    lambda user_id, search: matching(_visible(user_id), search), "user_id", "search", plan_each_run=True
)
#: The visible posts in each order, run with LIMIT and OFFSET (the list's first pages).
PAGES = {name: LIST.query(ordering, "first") for name, ordering in ORDERINGS.items()}
#: One visible post by id.
ONE = CompiledQuery(
    lambda user_id, post_id: _visible(user_id).filter(pk=post_id),
    "user_id",
    "post_id",
)


def page(
    user: User, ordering: Ordering, *, cursor: Cursor | None, skip: int, limit: int, search: str = ""
) -> Page[Post]:
    """``keyset_page`` of ``Post.objects.visible_to(user).with_vote_count()`` (and
    ``matching(search)`` when `search` is not empty): the list's page, in one query compiled
    once per shape. Raises the contract's 422 for a cursor that does not fit `ordering`."""
    if search:
        return SEARCH.page(ordering, cursor=cursor, skip=skip, limit=limit, user_id=user.pk, search=search)
    return LIST.page(ordering, cursor=cursor, skip=skip, limit=limit, user_id=user.pk)


def offset_page(user: User, ordering: Ordering, *, skip: int, limit: int) -> Page[Post]:
    """The list's page without cursor or search (``page``)."""
    return page(user, ordering, cursor=None, skip=skip, limit=limit)


def visible_post(user: User, post_id: int) -> Post | None:
    """``Post.objects.visible_to(user).with_vote_count().filter(pk=post_id)``'s post, with its owner
    and its count, or None."""
    found = ONE.run(user_id=user.pk, post_id=post_id)
    return found[0] if found else None

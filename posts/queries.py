"""The posts list's orders, and the two reads every client makes most, compiled from
``Post.objects.visible_to`` (api/compiled.py): the list's pages (by offset, after or before a
cursor, with or without a search) and a post by id."""

from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from api import read_budget
from api.compiled import CompiledPages, CompiledQuery
from api.paging import Cursor, Ordering, Page
from api.read_budget import TRIGRAM
from posts.models import Post

# The list's orders (docs/api.md, "Routes" and "HTTP semantics"): each has an index of its own (posts.models.Post.Meta).
ORDERINGS = {
    "new": Ordering("new", ("created_at", "id")),
    "top": Ordering("top", ("vote_total", "created_at", "id")),
}


def matching[Q: QuerySet[Any]](queryset: Q, search: str, *, ignore_case: bool | None = None) -> Q:
    """The list's ``search``: titles holding it, ignoring case, ``%`` and ``_`` literal.

    Case is compared only where it can matter (``ignore_case`` None: ``case_matters(search)``):
    a search with no letter that has another case, and no run the trigram index reads, is looked
    for as it is, which spares PostgreSQL upper-casing every title it reads (a search of ``~``
    reads them all: 260 to 310 ms against 610 to 900 at a million posts). The rows are the same."""
    if ignore_case is None:
        ignore_case = case_matters(search)
    return (
        queryset.filter(title__icontains=search) if ignore_case else queryset.filter(title__contains=search)
    )


def case_matters(search: str) -> bool:
    """False for a search that no index serves and whose every character is its own upper and
    lower case (punctuation, digits, spaces: ``~``, ``%%%``, ``12``); True otherwise. A search the
    trigram index serves keeps the case-blind comparison, which that index (on the upper-cased
    title) answers."""
    return bool(TRIGRAM.search(search)) or not (search == search.upper() == search.lower())


def _visible(user_id: int) -> QuerySet[Post]:
    return Post.objects.visible_to(User(pk=user_id)).with_vote_count()


#: The list's pages: every visible post, or those matching a search (api.paging.keyset_page's pages).
LIST = CompiledPages(_visible, "user_id")
#: The parameters of a search's slot (api.read_budget.search_guard), after its own.
GUARD = ("slot_key", "slots", "reader", "burst")


def _search(ignore_case: bool) -> CompiledPages[Post]:
    """The pages of a search, whose statement takes the caller's slot when a search holds none
    yet (api.read_budget.search_guard; its values are ``search_guard_values()``)."""
    return CompiledPages(
        lambda user_id, search, slot_key, slots, reader, burst: matching(
            _visible(user_id), search, ignore_case=ignore_case
        ).filter(read_budget.search_guard(slot_key, slots, reader, burst)),
        "user_id",
        "search",
        *GUARD,
        literal="search",
    )


#: A search is planned for its own text, written into its statement (api.compiled._written_in):
#: whether the trigram index or the newest-first walk is cheaper depends on it.
SEARCH = _search(ignore_case=True)
#: A search where case cannot matter (case_matters).
SEARCH_AS_IS = _search(ignore_case=False)
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
        compiled = SEARCH if case_matters(search) else SEARCH_AS_IS
        return compiled.page(
            ordering,
            cursor=cursor,
            skip=skip,
            limit=limit,
            user_id=user.pk,
            search=search,
            **read_budget.search_guard_values(),
        )
    return LIST.page(ordering, cursor=cursor, skip=skip, limit=limit, user_id=user.pk)


def offset_page(user: User, ordering: Ordering, *, skip: int, limit: int) -> Page[Post]:
    """The list's page without cursor or search (``page``)."""
    return page(user, ordering, cursor=None, skip=skip, limit=limit)


def visible_post(user: User, post_id: int) -> Post | None:
    """``Post.objects.visible_to(user).with_vote_count().filter(pk=post_id)``'s post, with its owner
    and its count, or None."""
    found = ONE.run(user_id=user.pk, post_id=post_id)
    return found[0] if found else None

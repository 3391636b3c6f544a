from functools import cache

from django.db import connections
from django.db.models import Q, QuerySet

from accounts.models import User
from api import rows
from api.paging import Ordering, Page
from posts.models import Post

# The list's orders (docs/api.md, "Routes" and "HTTP semantics"): each has an index of its own (posts.models.Post.Meta).
ORDERINGS = {
    "new": Ordering("new", ("created_at", "id")),
    "top": Ordering("top", ("vote_total", "created_at", "id")),
}


def visible_posts(user: User) -> QuerySet[Post]:
    """Published posts, and the user's own drafts (a draft exists only for its owner), but no post
    that staff have hidden (docs/api.md, "Reporting a post": 404 for everyone, the owner included), each with
    its owner in the same query. A post's vote count is its own `vote_total` column, kept exact by
    database triggers on every vote write (votes/triggers.py)."""
    return Post.objects.select_related("owner").filter(Q(published=True) | Q(owner=user), hidden=False)


# The two reads every client makes most, a page by offset (the first one above all) and a post by
# id, read what visible_posts() reads with SQL written once (api/rows.py): the ORM would build it
# again on every request. Other lists (a cursor, a search) and every write go through
# visible_posts().


def offset_page(user: User, ordering: Ordering, *, skip: int, limit: int) -> Page[Post]:
    """visible_posts(user) in `ordering` (every field descending), `limit` posts after `skip`
    (LIMIT and OFFSET): the page api.paging.keyset_page gives without a cursor, in one query."""
    alias = rows.read_alias(Post)
    sql = _visible_sql(ordering.fields) + f" LIMIT {int(limit) + 1:d} OFFSET {int(skip):d}"
    posts = _posts_with_owners(alias, rows.fetch(alias, sql, [user.pk]))
    return Page(posts[:limit], has_next=len(posts) > limit, has_prev=skip > 0)


def visible_post(user: User, post_id: int) -> Post | None:
    """The post `post_id` of visible_posts(user), with its owner, or None."""
    alias = rows.read_alias(Post)
    found = rows.fetch(alias, _visible_sql(("id",)), [user.pk, post_id])
    return _posts_with_owners(alias, found)[0] if found else None


@cache
def _visible_sql(fields: tuple[str, ...]) -> str:
    """visible_posts()'s SELECT: post and owner columns, the user's id the first parameter.
    With ("id",): one post, its id the second parameter. Else: ordered by `fields`, each
    descending (api.paging.Ordering)."""
    quote = connections["default"].ops.quote_name
    post, user = quote(Post._meta.db_table), quote(User._meta.db_table)

    def column(name: str) -> str:
        return rows.column(Post, name)

    # Names from the models' metadata; values are parameters.
    select = f"SELECT {rows.columns(Post).select}, {rows.columns(User).select} FROM {post} "  # noqa: S608
    sql = (
        f"{select}INNER JOIN {user} ON {column('owner')} = {rows.column(User, 'pk')} "
        f"WHERE ({column('published')} OR {column('owner')} = %s) AND NOT {column('hidden')}"
    )
    if fields == ("id",):
        return f"{sql} AND {column('id')} = %s"
    return f"{sql} ORDER BY " + ", ".join(f"{column(name)} DESC" for name in fields)


def _posts_with_owners(alias: str, found: list[tuple]) -> list[Post]:
    """Posts from rows of (post columns..., owner columns...), each with its owner cached
    (``post.owner`` costs no query), as select_related("owner") leaves them."""
    post_columns, owner_columns = rows.columns(Post), rows.columns(User)
    split = len(post_columns)
    owner_field = Post._meta.get_field("owner")
    posts = []
    for row in found:
        post = post_columns.instance(alias, row[:split])
        owner_field.set_cached_value(post, owner_columns.instance(alias, row[split:]))
        posts.append(post)
    return posts

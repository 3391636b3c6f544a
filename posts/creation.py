"""A new post and its ``post.created`` event (webhooks), written by one statement.

``POST /posts/`` is the hottest write after a vote. Through the ORM it took a transaction and
two statements (the INSERT, then ``events.record``): BEGIN, INSERT, the event, COMMIT, four
round trips. Here the INSERT and the event are one statement (``events.fan_out(after=...)``, as
a vote's are in votes/services.py): atomic on its own, one round trip, and inside a caller's
transaction (an Idempotency-Key's) part of it.

The event's guarantee is the one ``events.record`` gives: its endpoints are read in the same
statement as the INSERT, so every endpoint subscribed to ``post.created`` and committed before
the statement began gets the post's event, and the event exists if and only if the post does.
A subscription committing while the statement runs is not seen by it (PostgreSQL's READ
COMMITTED snapshot is taken when a statement starts); its first post is the first one written
by a statement starting after it committed.
"""

from django.db import connections, router

from accounts.models import User
from posts.models import Post
from webhooks import events
from webhooks.event_types import EventType

_POSTS = connections["default"].ops.quote_name(Post._meta.db_table)
# Every column, in the model's order, for Model.from_db; the rest come from their db_default.
_COLUMNS = ", ".join(str(field.column) for field in Post._meta.concrete_fields)
# The columns written, by the parameter naming each value.
_WRITTEN = {
    name: str(Post._meta.get_field(name).column)  # type: ignore[union-attr]
    for name in ("title", "content", "published", "owner")
}
# The event's data as PostViewSet's other writes record it: {"post_id": ..., "user_id": ...}.
_EVENT_DATA = "(SELECT jsonb_build_object('post_id', id, 'user_id', owner_id) FROM post)"
# Table and column names from the model; every value is a parameter.
CREATE = (
    f"WITH post AS (INSERT INTO {_POSTS} ({', '.join(_WRITTEN.values())}) "  # noqa: S608
    f"VALUES ({', '.join(f'%({name})s' for name in _WRITTEN)}) RETURNING {_COLUMNS}), "
    f"{events.fan_out(after='post', data=_EVENT_DATA)} SELECT {_COLUMNS} FROM post"
)


def create_post(*, owner: User, title: str, content: str, published: bool) -> Post:
    """Insert the post (owned by ``owner``) and record ``post.created`` for the endpoints
    subscribed to it, in one statement; the new Post, as read back (id, created_at...), its
    ``owner`` set. Raises what the database raises (the owner deleted meanwhile: IntegrityError)."""
    params = {
        "title": title,
        "content": content,
        "published": published,
        "owner": owner.pk,
        **events.event_params(EventType.POST_CREATED, {}),
    }
    alias = router.db_for_write(Post)
    with connections[alias].cursor() as cursor:
        cursor.execute(CREATE, params)
        row = cursor.fetchone()
    post = Post.from_db(alias, [field.attname for field in Post._meta.concrete_fields], row)
    post.owner = owner
    return post

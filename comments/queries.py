"""The comments list's reads, compiled from their QuerySets (api/compiled.py): whether the caller
can see the post, whether a ``parent_id`` is a comment of it, and the list's pages."""

from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from api.compiled import CompiledExists, CompiledPages
from api.paging import Cursor, Ordering, Page
from comments.models import Comment
from posts.models import Post


def thread(post_id: int, parent_id: int | None) -> QuerySet[Comment]:
    """The list ``parent_id`` names: the post's top-level comments (None), or one comment's
    direct replies; each with its owner."""
    comments = Comment.objects.select_related("owner").filter(post_id=post_id)
    return comments.filter(parent_id=parent_id) if parent_id is not None else comments.filter(parent=None)


#: The post is one the user can see (``Post.objects.visible_to``).
POST_VISIBLE = CompiledExists(
    lambda user_id, post_id: Post.objects.visible_to(User(pk=user_id)).filter(pk=post_id),
    "user_id",
    "post_id",
)
#: The comment is one of the post's.
COMMENT_OF_POST = CompiledExists(
    lambda comment_id, post_id: Comment.objects.filter(pk=comment_id, post_id=post_id),
    "comment_id",
    "post_id",
)
_TOP_LEVEL = CompiledPages(lambda post_id: thread(post_id, None), "post_id")
_REPLIES = CompiledPages(thread, "post_id", "parent_id")


def post_visible(user: Any, post_id: int) -> bool:
    """``Post.objects.visible_to(user).filter(pk=post_id).exists()``."""
    return POST_VISIBLE.run(user_id=user.pk, post_id=post_id)


def comment_of_post(comment_id: int, post_id: int) -> bool:
    """``Comment.objects.filter(pk=comment_id, post_id=post_id).exists()``."""
    return COMMENT_OF_POST.run(comment_id=comment_id, post_id=post_id)


def page(
    post_id: int, parent_id: int | None, ordering: Ordering, *, cursor: Cursor | None, skip: int, limit: int
) -> Page[Comment]:
    """``keyset_page(thread(post_id, parent_id), ordering, ...)``, in one query compiled once per
    shape. Raises the contract's 422 for a cursor that does not fit `ordering`."""
    if parent_id is None:
        return _TOP_LEVEL.page(ordering, cursor=cursor, skip=skip, limit=limit, post_id=post_id)
    return _REPLIES.page(
        ordering, cursor=cursor, skip=skip, limit=limit, post_id=post_id, parent_id=parent_id
    )

"""Comments in the admin: every comment (read-only: staff act on comments from the moderation
queue, where each action is recorded), and a post's page showing its comments."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from comments.models import Comment
from posts.admin import PostAdmin
from posts.models import Post
from siteadmin.lists import LargeTableAdmin

COMMENTS_SHOWN = 50


def comment_text(comment: Comment) -> str:
    """What staff read of a comment: its content, or what it is when it has none."""
    if comment.deleted:
        return "[deleted]"
    text = Truncator(comment.content).chars(120)
    return f"[hidden] {text}" if comment.hidden else text


@admin.register(Comment)
class CommentAdmin(LargeTableAdmin):
    list_display = ("id", "text", "post", "parent", "owner", "reply_count", "deleted", "hidden", "created_at")
    list_select_related = ("owner", "post")
    list_filter = ("deleted", "hidden", "created_at")
    search_fields = ("content", "owner__email")
    ordering = ("-created_at", "-id")
    fields = (
        "post",
        "parent",
        "owner",
        "content",
        "created_at",
        "edited_at",
        "reply_count",
        "deleted",
        "hidden",
    )
    readonly_fields = fields

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # A post's comments, linked from the post's page (a filter listing every post would not fit).
        return lookup == "post__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="comment")
    def text(self, comment: Comment) -> str:
        return comment_text(comment)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False


class PostWithCommentsAdmin(PostAdmin):
    """posts' admin, with the post's comments on its page (the comments app adds them, so that
    posts does not depend on comments)."""

    def get_fields(self, request: HttpRequest, obj: Post | None = None) -> tuple[str, ...]:
        fields = super().get_fields(request, obj)
        return (*fields, "comments") if obj else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Post | None = None) -> tuple[str, ...]:
        return (*super().get_readonly_fields(request, obj), "comments")

    @admin.display(description="comments")
    def comments(self, post: Post) -> str:
        """The first comments of the post, oldest first, replies marked with their parent; a
        link to all of them. One query, bounded, whatever the thread's size."""
        shown: QuerySet[Comment] = (
            Comment.objects.filter(post=post)
            .select_related("owner")
            .order_by("created_at", "id")[:COMMENTS_SHOWN]
        )
        rows = format_html_join(
            "",
            '<li><a href="{}">#{}</a>{} {}: {}</li>',
            (
                (
                    reverse("admin:comments_comment_change", args=[c.pk]),
                    c.pk,
                    f" ↳ #{c.parent_id}" if c.parent_id else "",
                    c.owner.email if c.owner else "—",
                    comment_text(c),
                )
                for c in shown
            ),
        )
        every = reverse("admin:comments_comment_changelist") + f"?post__id__exact={post.pk}"
        return format_html(
            '<ul style="margin-left:0">{}</ul><a href="{}">All comments of this post</a>', rows, every
        )


admin.site.unregister(Post)
admin.site.register(Post, PostWithCommentsAdmin)

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.text import Truncator

from accounts.admin import UserAdmin
from accounts.models import User
from posts.models import Post
from siteadmin.lists import LargeTableAdmin

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class PostCount(TypedDict):
    """The annotation UserWithPostCountAdmin.get_queryset adds to each user."""

    post_count: int


@admin.register(Post)
class PostAdmin(LargeTableAdmin):
    list_display = ("short_title", "owner", "published", "vote_count", "created_at")
    list_select_related = ("owner",)
    list_filter = ("published", "hidden", "created_at")
    search_fields = ("title", "content", "owner__email")
    ordering = ("-created_at", "-id")  # the list's index: pages read straight off it
    autocomplete_fields = ("owner",)
    fields = ("title", "content", "published", "hidden", "owner", "created_at", "vote_count")
    # Hidden and restored only from the moderation queue, where the action is recorded.
    readonly_fields = ("hidden", "created_at", "vote_count")
    actions = ("publish", "unpublish")

    def get_fields(self, request: HttpRequest, obj: Post | None = None) -> tuple[str, ...]:
        # A post being added has no creation time or votes yet (the database sets them).
        return self.fields if obj else ("title", "content", "published", "owner")

    @admin.display(description="title", ordering="title")
    def short_title(self, post: Post) -> str:
        # Long titles would wrap each row into many lines and push the dates off the page.
        return Truncator(post.title).chars(80)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        """The posts with their counts as the API shows them (``with_vote_count``)."""
        return super().get_queryset(request).with_vote_count()  # type: ignore[attr-defined]

    # Sorted by vote_total, the rank its index holds (sort=top's); the figure shown also counts
    # the pending deltas (votes/triggers.py).
    @admin.display(description="votes", ordering="vote_total")
    def vote_count(self, post: Post) -> int:
        return post.vote_count

    @admin.action(description="Publish the selected posts", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        count = queryset.update(published=True)
        self.message_user(request, f"Published {count} post(s).", messages.SUCCESS)

    @admin.action(description="Unpublish the selected posts", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        count = queryset.update(published=False)
        self.message_user(request, f"Unpublished {count} post(s).", messages.SUCCESS)


class UserWithPostCountAdmin(UserAdmin):
    """accounts' user admin, with each user's number of posts as a sortable column (the posts
    app adds it, so that accounts does not depend on posts)."""

    list_display = (*UserAdmin.list_display, "post_count")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # A correlated subquery: counted only for the users on the page, through the owner index.
        post_count = (
            Post.objects.filter(owner=OuterRef("pk"))
            .order_by()
            .values("owner")
            .annotate(n=Count("*"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(post_count=Coalesce(Subquery(post_count, output_field=IntegerField()), 0))
        )

    @admin.display(description="posts", ordering="post_count")
    def post_count(self, user: "WithAnnotations[User, PostCount]") -> int:
        return user.post_count


# Importing accounts.admin above registered its UserAdmin; this one takes its place.
admin.site.unregister(User)
admin.site.register(User, UserWithPostCountAdmin)

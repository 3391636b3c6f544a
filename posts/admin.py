from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from config.admin_lists import LargeTableAdmin
from posts.models import Post


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

    @admin.display(description="votes", ordering="vote_total")
    def vote_count(self, post: Post) -> int:
        return post.vote_total

    @admin.action(description="Publish the selected posts", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        count = queryset.update(published=True)
        self.message_user(request, f"Published {count} post(s).", messages.SUCCESS)

    @admin.action(description="Unpublish the selected posts", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        count = queryset.update(published=False)
        self.message_user(request, f"Unpublished {count} post(s).", messages.SUCCESS)

from django.contrib import admin
from django.http import HttpRequest

from siteadmin.lists import LargeTableAdmin
from votes.models import Vote


@admin.register(Vote)
class VoteAdmin(LargeTableAdmin):
    """Votes are the users' own acts: staff may look at them and delete them, never make or
    change one (so never into a second vote of a user on a post)."""

    list_display = ("user", "post", "created_at")
    list_select_related = ("user", "post")
    search_fields = ("=user__email",)  # exact: the email's unique index answers it
    search_help_text = "The voter's whole email address (exact match, any case)."
    ordering = ("-id",)
    fields = ("user", "post", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Vote | None = None) -> bool:
        return False

"""The queue of reported comments, beside the posts' queue in the admin: each row says which
comment it is, the post it belongs to (whose page shows the thread around it) and the comment
it answers; its actions hide, restore, dismiss and deactivate the author, each recorded."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from accounts.request_types import AuthenticatedHttpRequest
from comments.admin import comment_text
from moderation import comment_services
from moderation.admin import ReasonForm
from moderation.models import CommentReport, ReportedComment
from siteadmin.lists import LargeTableAdmin

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices


class CommentQueueFilter(admin.SimpleListFilter):
    """Open reports (the default), hidden comments, or every comment ever reported."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("hidden", "Hidden"), ("all", "Ever reported")]

    def choices(self, changelist: ChangeList) -> Iterator["_ListFilterChoices"]:
        for choice in super().choices(changelist):
            if choice["display"] == "All":
                choice["display"] = "Open reports"
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "hidden":
            return queryset.filter(hidden=True)
        if self.value() == "all":
            return queryset
        return queryset.filter(open_reports__gt=0)


@admin.register(ReportedComment)
class ReportedCommentAdmin(LargeTableAdmin):
    list_display = (
        "comment",
        "on_post",
        "in_reply_to",
        "author",
        "open_reports",
        "reasons",
        "first_reported_at",
        "hidden",
    )
    list_display_links = None
    list_select_related = ("owner", "post")
    list_filter = (CommentQueueFilter,)

    def get_ordering(self, request: HttpRequest) -> tuple:
        """Oldest open report first; comments without open reports last."""
        return (F("first_reported_at").asc(nulls_last=True), "-id")

    action_form = ReasonForm
    actions = ("hide", "restore", "dismiss", "deactivate_author")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportedComment]:
        reports = CommentReport.objects.filter(comment=OuterRef("pk")).order_by()
        open_reports = reports.filter(resolved_at__isnull=True)
        count = open_reports.values("comment").annotate(n=Count("*")).values("n")
        first = open_reports.values("comment").annotate(t=Min("created_at")).values("t")
        reasons = (
            open_reports.values("comment")
            .annotate(r=StringAgg("reason", Value(", "), order_by="reason"))
            .values("r")
        )
        return (
            super()
            .get_queryset(request)
            .filter(Exists(reports))
            .annotate(
                open_reports=Coalesce(Subquery(count, output_field=IntegerField()), 0),
                first_reported_at=Subquery(first),
                open_reasons=Subquery(reasons),
            )
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().changelist_view(
            request, {"title": "Moderation queue: comments", **(extra_context or {})}
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReportedComment | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ReportedComment | None = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("moderation.moderate")

    @admin.display(description="comment")
    def comment(self, entry: ReportedComment) -> str:
        url = reverse("admin:comments_comment_change", args=[entry.pk])
        return format_html('<a href="{}">#{}</a> {}', url, entry.pk, comment_text(entry))

    @admin.display(description="on post")
    def on_post(self, entry: ReportedComment) -> str:
        url = reverse("admin:posts_post_change", args=[entry.post_id])
        return format_html(
            '<a href="{}">{}</a>', url, Truncator(entry.post.title).chars(60) or f"post {entry.post_id}"
        )

    @admin.display(description="in reply to")
    def in_reply_to(self, entry: ReportedComment) -> str:
        if entry.parent_id is None:
            return "—"
        url = reverse("admin:comments_comment_change", args=[entry.parent_id])
        return format_html('<a href="{}">#{}</a>', url, entry.parent_id)

    @admin.display(description="author")
    def author(self, entry: ReportedComment) -> str:
        owner = entry.owner
        if owner is None:
            return "—"
        return owner.email if owner.is_active else f"{owner.email} (deactivated)"

    @admin.display(description="open reports", ordering="open_reports")
    def open_reports(self, entry: ReportedComment) -> int:
        return entry.open_reports  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="reasons")
    def reasons(self, entry: ReportedComment) -> str:
        return entry.open_reasons or ""  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="first reported", ordering="first_reported_at")
    def first_reported_at(self, entry: ReportedComment) -> object:
        return entry.first_reported_at  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="hidden", boolean=True)
    def hidden(self, entry: ReportedComment) -> bool:
        return entry.hidden

    def _reason(self, request: HttpRequest) -> str:
        return request.POST.get("reason", "")

    @admin.action(description="Hide the selected comments (give a reason)", permissions=["moderate"])
    def hide(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ReportedComment]) -> None:
        reason = self._reason(request)
        if not reason.strip():
            self.message_user(request, "Give a reason to hide a comment; nothing was hidden.", messages.ERROR)
            return
        count = comment_services.hide_comments(moderator=request.user, comments=list(queryset), reason=reason)
        self.message_user(request, f"Hid {count} comment(s).", messages.SUCCESS)

    @admin.action(description="Restore the selected comments", permissions=["moderate"])
    def restore(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ReportedComment]) -> None:
        count = comment_services.restore_comments(
            moderator=request.user, comments=list(queryset), reason=self._reason(request)
        )
        self.message_user(request, f"Restored {count} comment(s).", messages.SUCCESS)

    @admin.action(description="Dismiss the reports of the selected comments", permissions=["moderate"])
    def dismiss(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ReportedComment]) -> None:
        count = comment_services.dismiss_comments(
            moderator=request.user, comments=list(queryset), reason=self._reason(request)
        )
        self.message_user(request, f"Dismissed the reports of {count} comment(s).", messages.SUCCESS)

    @admin.action(description="Deactivate the authors of the selected comments", permissions=["moderate"])
    def deactivate_author(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[ReportedComment]
    ) -> None:
        count, staff = comment_services.deactivate_comment_authors(
            moderator=request.user, comments=list(queryset), reason=self._reason(request)
        )
        self.message_user(
            request, f"Deactivated {count} author(s); their sessions have ended.", messages.SUCCESS
        )
        if staff:
            self.message_user(request, f"Left {staff} staff account(s) alone.", messages.WARNING)

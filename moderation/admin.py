"""The moderation queue and the moderation record, in the Django admin.

The queue lists reported posts, oldest open report first (or, by its column, the most reported
first), from the ReportedPost rows kept by moderation/services.py: each page reads one page of
an index, whatever the number of posts and reports. Its actions need the ``moderation.moderate``
permission, which the "Moderators" group has (moderation/migrations/0002_moderators_group.py).
"""

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.request_types import AuthenticatedHttpRequest
from moderation import services
from moderation.models import ModerationAction, Report, ReportedPost
from siteadmin.lists import LargeTableAdmin

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices

NOTES_SHOWN = 3


class ReasonForm(ActionForm):
    reason = forms.CharField(
        required=False, max_length=1000, label="Reason", widget=forms.TextInput(attrs={"size": 40})
    )


class QueueFilter(admin.SimpleListFilter):
    """Open reports (the default), hidden posts, or every post ever reported."""

    title = "state"
    parameter_name = "state"
    #: The lookup that says an entry is hidden.
    hidden_lookup = "post__hidden"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("hidden", "Hidden"), ("all", "Ever reported")]

    def choices(self, changelist: ChangeList) -> Iterator["_ListFilterChoices"]:
        for choice in super().choices(changelist):
            if choice["display"] == "All":
                choice["display"] = "Open reports"
            yield choice

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "hidden":
            return queryset.filter(**{self.hidden_lookup: True})
        if self.value() == "all":
            return queryset
        return queryset.filter(open_reports__gt=0)


class QueueChangeList(ChangeList):
    """Adds each row's open-report reasons and latest notes, for the page's rows only: two
    queries per page, whatever the page number or the number of reports."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        entries = list(self.result_list)  # the page, evaluated once; the template reuses it
        ids = [entry.post_id for entry in entries]
        open_reports = Report.objects.filter(post_id__in=ids, resolved_at__isnull=True)
        reasons, notes = defaultdict(list), defaultdict(list)
        by_reason = (
            open_reports.values("post_id", "reason")
            .annotate(n=Count("*"))
            .order_by("post_id", "-n", "reason")
        )
        for row in by_reason:
            reasons[row["post_id"]].append(f"{row['reason']} ({row['n']})")
        latest = (
            open_reports.exclude(note="")
            .annotate(rank=Window(RowNumber(), partition_by="post_id", order_by=F("created_at").desc()))
            .filter(rank__lte=NOTES_SHOWN)
            .order_by("post_id", "rank")
            .values_list("post_id", "note")
        )
        for post_id, note in latest:
            notes[post_id].append(note)
        for entry in entries:
            entry.reason_counts, entry.latest_notes = reasons[entry.post_id], notes[entry.post_id]


@admin.register(ReportedPost)
class ReportedPostAdmin(LargeTableAdmin):
    list_display = ("title", "author", "open_reports", "reasons", "notes", "first_reported_at", "hidden")
    list_display_links = None
    list_select_related = ("post__owner",)
    list_filter = (QueueFilter,)
    ordering = ("first_reported_at",)
    action_form = ReasonForm
    actions = ("hide", "restore", "dismiss", "deactivate_author")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportedPost]:
        return super().get_queryset(request).defer("post__content")

    def get_changelist(self, request: HttpRequest, **kwargs: object) -> type[ChangeList]:
        return QueueChangeList

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().changelist_view(request, {"title": "Moderation queue", **(extra_context or {})})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReportedPost | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ReportedPost | None = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("moderation.moderate")

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        """Not in the admin index: the one queue (moderation/queue_admin.py) lists these
        entries; this page stays at its address for links made before it."""
        return {}

    @admin.display(description="post")
    def title(self, entry: ReportedPost) -> str:
        url = reverse("admin:posts_post_change", args=[entry.post_id])
        return format_html('<a href="{}">{}</a>', url, entry.post.title[:120] or f"post {entry.post_id}")

    @admin.display(description="author")
    def author(self, entry: ReportedPost) -> str:
        owner = entry.post.owner
        return owner.email if owner.is_active else f"{owner.email} (deactivated)"

    @admin.display(description="reasons")
    def reasons(self, entry: ReportedPost) -> str:
        return ", ".join(entry.reason_counts)  # type: ignore[attr-defined]  # set by QueueChangeList

    @admin.display(description="latest notes")
    def notes(self, entry: ReportedPost) -> str:
        notes = entry.latest_notes  # type: ignore[attr-defined]  # set by QueueChangeList
        return format_html_join("", "<p>{}</p>", ((note[:200],) for note in notes))

    @admin.display(description="hidden", boolean=True)
    def hidden(self, entry: ReportedPost) -> bool:
        return entry.post.hidden

    def _reason(self, request: HttpRequest) -> str:
        return request.POST.get("reason", "")

    @admin.action(description="Hide the selected posts (give a reason)", permissions=["moderate"])
    def hide(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ReportedPost]) -> None:
        reason = self._reason(request)
        if not reason.strip():
            self.message_user(request, "Give a reason to hide a post; nothing was hidden.", messages.ERROR)
            return
        count = services.hide(moderator=request.user, posts=_posts(queryset), reason=reason)
        self.message_user(request, f"Hid {count} post(s).", messages.SUCCESS)

    @admin.action(description="Restore the selected posts", permissions=["moderate"])
    def restore(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ReportedPost]) -> None:
        count = services.restore(moderator=request.user, posts=_posts(queryset), reason=self._reason(request))
        self.message_user(request, f"Restored {count} post(s).", messages.SUCCESS)

    @admin.action(description="Dismiss the reports of the selected posts", permissions=["moderate"])
    def dismiss(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ReportedPost]) -> None:
        count = services.dismiss(moderator=request.user, posts=_posts(queryset), reason=self._reason(request))
        self.message_user(request, f"Dismissed the reports of {count} post(s).", messages.SUCCESS)

    @admin.action(description="Deactivate the authors of the selected posts", permissions=["moderate"])
    def deactivate_author(self, request: AuthenticatedHttpRequest, queryset: QuerySet[ReportedPost]) -> None:
        count, staff = services.deactivate_authors(
            moderator=request.user, posts=_posts(queryset), reason=self._reason(request)
        )
        self.message_user(
            request, f"Deactivated {count} author(s); their sessions have ended.", messages.SUCCESS
        )
        if staff:
            self.message_user(request, f"Left {staff} staff account(s) alone.", messages.WARNING)


def _posts(queryset: QuerySet[ReportedPost]) -> list:
    return [entry.post for entry in queryset.select_related("post")]


@admin.register(ModerationAction)
class ModerationActionAdmin(LargeTableAdmin):
    """The record: read-only for everyone, superusers included."""

    list_display = ("created_at", "moderator", "action", "subject", "reason", "reports_closed")
    list_select_related = ("moderator",)
    list_filter = ("action", "created_at")
    search_fields = ("subject",)
    ordering = ("-created_at", "-id")
    fields = ("created_at", "moderator", "action", "post", "author", "subject", "reason", "reports_closed")
    readonly_fields = fields

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().changelist_view(request, {"title": "Moderation record", **(extra_context or {})})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ModerationAction | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ModerationAction | None = None) -> bool:
        return False


# The one queue, of posts and comments, and the older per-kind pages (their own modules: one
# job per file).
from moderation import queue_admin  # noqa: E402, F401

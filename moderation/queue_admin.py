"""The one moderation queue in the admin: reported posts and reported comments together, read
from the ``QueueEntry`` view. Each row says its kind, what was reported, the post it belongs to
(whose page shows the thread around a comment) and, for a reply, the comment it answers. The
actions work on a mixed selection: each entry goes to the posts' service (moderation/services.py)
or the comments' (moderation/comment_services.py), which record every action as before.
"""

from collections import defaultdict
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db import transaction
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from accounts.request_types import AuthenticatedHttpRequest
from comments.admin import comment_text
from comments.models import Comment
from moderation import comment_services, services
from moderation.admin import NOTES_SHOWN, QueueFilter, ReasonForm
from moderation.models import CommentReport, QueueEntry, Report
from posts.models import Post
from siteadmin.lists import LargeTableAdmin

if TYPE_CHECKING:
    pass


class StateFilter(QueueFilter):
    """Open reports (the default), hidden posts and comments, or everything ever reported."""

    hidden_lookup = "hidden"


class KindFilter(admin.SimpleListFilter):
    """Posts and comments (the default), posts only, or comments only."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("post", "Posts"), ("comment", "Comments")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(kind=self.value()) if self.value() else queryset


class EntryChangeList(ChangeList):
    """Adds each row's open-report reasons and latest notes, for the page's rows only: at most
    four queries a page (two for each kind on it), whatever the number of reports."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        entries = list(self.result_list)  # the page, evaluated once; the template reuses it
        reasons: dict[tuple[str, int], list[str]] = defaultdict(list)
        notes: dict[tuple[str, int], list[str]] = defaultdict(list)
        for kind, model, key in (("post", Report, "post_id"), ("comment", CommentReport, "comment_id")):
            ids = [getattr(entry, key) for entry in entries if entry.kind == kind]
            if not ids:
                continue
            open_reports = model.objects.filter(**{f"{key}__in": ids, "resolved_at__isnull": True})
            by_reason = (
                open_reports.values(key, "reason").annotate(n=Count("*")).order_by(key, "-n", "reason")
            )
            for row in by_reason:
                reasons[kind, row[key]].append(f"{row['reason']} ({row['n']})")
            latest = (
                open_reports.exclude(note="")
                .annotate(rank=Window(RowNumber(), partition_by=key, order_by=F("created_at").desc()))
                .filter(rank__lte=NOTES_SHOWN)
                .order_by(key, "rank")
                .values_list(key, "note")
            )
            for subject_id, note in latest:
                notes[kind, subject_id].append(note)
        for entry in entries:
            subject = (entry.kind, entry.comment_id or entry.post_id)
            entry.reason_counts, entry.latest_notes = reasons[subject], notes[subject]


@admin.register(QueueEntry)
class QueueEntryAdmin(LargeTableAdmin):
    """The one queue's page, ``/admin/moderation/queueentry/``: read-only rows, and the four
    actions, which need ``moderation.moderate`` (the Moderators group has it)."""

    list_display = (
        "kind",
        "reported",
        "author_email",
        "open_reports",
        "reasons",
        "notes",
        "first_reported_at",
        "hidden",
    )
    list_display_links = None
    list_select_related = ("post", "comment", "author")
    list_filter = (StateFilter, KindFilter)
    # As the posts' queue: oldest open report first (entries without open reports last), or by
    # the "open reports" column, the most reported first.
    ordering = ("first_reported_at",)
    action_form = ReasonForm
    actions = ("hide", "restore", "dismiss", "deactivate_author")

    def get_queryset(self, request: HttpRequest) -> QuerySet[QueueEntry]:
        return super().get_queryset(request).defer("post__content")

    def get_changelist(self, request: HttpRequest, **kwargs: object) -> type[ChangeList]:
        return EntryChangeList

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().changelist_view(request, {"title": "Moderation queue", **(extra_context or {})})

    def has_view_permission(self, request: HttpRequest, obj: QueueEntry | None = None) -> bool:
        # The queue is the moderators' page: the permission its actions need lets one see it.
        return self.has_moderate_permission(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: QueueEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: QueueEntry | None = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("moderation.moderate")

    @admin.display(description="reported")
    def reported(self, entry: QueueEntry) -> str:
        """The post; or the comment, the post it belongs to (whose page shows the thread around
        it) and the comment it answers. One cell, so the queue fits a 1280-pixel screen."""
        post_url = reverse("admin:posts_post_change", args=[entry.post_id])
        post = format_html('<a href="{}">{}</a>', post_url, _title(entry.post))
        if entry.comment is None:
            return post
        url = reverse("admin:comments_comment_change", args=[entry.comment_id])
        comment = format_html('<a href="{}">#{}</a> {}', url, entry.comment_id, comment_text(entry.comment))
        if entry.parent_id is None:
            return format_html("{}<br>on {}", comment, post)
        url = reverse("admin:comments_comment_change", args=[entry.parent_id])
        return format_html(
            '{}<br>on {}, in reply to <a href="{}">#{}</a>', comment, post, url, entry.parent_id
        )

    @admin.display(description="author")
    def author_email(self, entry: QueueEntry) -> str:
        owner = entry.author
        if owner is None:
            return "—"
        return owner.email if owner.is_active else f"{owner.email} (deactivated)"

    @admin.display(description="reasons")
    def reasons(self, entry: QueueEntry) -> str:
        return ", ".join(entry.reason_counts)  # type: ignore[attr-defined]  # set by EntryChangeList

    @admin.display(description="latest notes")
    def notes(self, entry: QueueEntry) -> str:
        notes = entry.latest_notes  # type: ignore[attr-defined]  # set by EntryChangeList
        return format_html_join("", "<p>{}</p>", ((note[:200],) for note in notes))

    def _reason(self, request: HttpRequest) -> str:
        return request.POST.get("reason", "")

    @admin.action(
        description="Hide the selected posts and comments (give a reason)", permissions=["moderate"]
    )
    def hide(self, request: AuthenticatedHttpRequest, queryset: QuerySet[QueueEntry]) -> None:
        reason = self._reason(request)
        if not reason.strip():
            self.message_user(request, "Give a reason to hide; nothing was hidden.", messages.ERROR)
            return
        posts, comments = _split(queryset)
        with transaction.atomic():  # both kinds, or neither
            done = services.hide(moderator=request.user, posts=posts, reason=reason)
            replies = comment_services.hide_comments(moderator=request.user, comments=comments, reason=reason)
        self.message_user(request, f"Hid {done} post(s) and {replies} comment(s).", messages.SUCCESS)

    @admin.action(description="Restore the selected posts and comments", permissions=["moderate"])
    def restore(self, request: AuthenticatedHttpRequest, queryset: QuerySet[QueueEntry]) -> None:
        posts, comments = _split(queryset)
        reason = self._reason(request)
        with transaction.atomic():
            done = services.restore(moderator=request.user, posts=posts, reason=reason)
            replies = comment_services.restore_comments(
                moderator=request.user, comments=comments, reason=reason
            )
        self.message_user(request, f"Restored {done} post(s) and {replies} comment(s).", messages.SUCCESS)

    @admin.action(
        description="Dismiss the reports of the selected posts and comments", permissions=["moderate"]
    )
    def dismiss(self, request: AuthenticatedHttpRequest, queryset: QuerySet[QueueEntry]) -> None:
        posts, comments = _split(queryset)
        reason = self._reason(request)
        with transaction.atomic():
            done = services.dismiss(moderator=request.user, posts=posts, reason=reason)
            replies = comment_services.dismiss_comments(
                moderator=request.user, comments=comments, reason=reason
            )
        self.message_user(
            request, f"Dismissed the reports of {done} post(s) and {replies} comment(s).", messages.SUCCESS
        )

    @admin.action(description="Deactivate the authors of the selected entries", permissions=["moderate"])
    def deactivate_author(self, request: AuthenticatedHttpRequest, queryset: QuerySet[QueueEntry]) -> None:
        posts, comments = _split(queryset)
        reason = self._reason(request)
        with transaction.atomic():
            count, staff = services.deactivate_authors(moderator=request.user, posts=posts, reason=reason)
            more, more_staff = comment_services.deactivate_comment_authors(
                moderator=request.user, comments=comments, reason=reason
            )
        self.message_user(
            request, f"Deactivated {count + more} author(s); their sessions have ended.", messages.SUCCESS
        )
        if staff + more_staff:
            self.message_user(request, f"Left {staff + more_staff} staff account(s) alone.", messages.WARNING)


def _title(post: Post) -> str:
    return Truncator(post.title).chars(120) or f"post {post.pk}"


def _split(queryset: QuerySet[QueueEntry]) -> tuple[QuerySet[Post], QuerySet[Comment]]:
    """The selected posts and the selected comments (the services lock and re-read them)."""
    entries = list(queryset.values_list("kind", "post_id", "comment_id"))
    post_ids = [post_id for kind, post_id, _ in entries if kind == "post"]
    comment_ids = [comment_id for kind, _, comment_id in entries if kind == "comment"]
    return Post.objects.filter(pk__in=post_ids), Comment.objects.filter(pk__in=comment_ids)

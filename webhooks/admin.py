"""Staff manage webhook endpoints here, see every delivery and attempt, and send one again.

A new endpoint's secret, and a rotated one, are shown once on the page after saving, never
again (the change form does not have the field)."""

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from webhooks import delivery
from webhooks.addresses import RefusedAddress, check_url
from webhooks.event_types import EventType
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.queue import queue_stats
from webhooks.signing import new_secret


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=EventType.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Endpoint
        fields = ["url", "events", "is_active", "description"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except RefusedAddress as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


def _show_secrets(
    site: admin.AdminSite, request: HttpRequest, endpoints: list[Endpoint], title: str
) -> TemplateResponse:
    context = {**site.each_context(request), "title": title, "endpoints": endpoints}
    response = TemplateResponse(request, "admin/webhooks/endpoint/secret.html", context)
    response["Cache-Control"] = "no-store"  # the one copy of the secret stays out of every cache
    return response


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "is_active", "event_list", "description", "created_at"]
    list_filter = ["is_active"]
    actions = ["rotate_secret"]

    @admin.display(description="events")
    def event_list(self, endpoint: Endpoint) -> str:
        return ", ".join(endpoint.events)

    def save_model(self, request: HttpRequest, obj: Endpoint, form: forms.ModelForm, change: bool) -> None:
        if not change:
            obj.secret = new_secret()
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: Endpoint, post_url_continue: str | None = None
    ) -> HttpResponse:
        """The page that shows the new secret, once (no redirect: it is in no URL or cookie)."""
        return _show_secrets(self.admin_site, request, [obj], "The endpoint's secret")

    @admin.action(description="Rotate the secret (the old one keeps signing for 24 hours)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> TemplateResponse:
        """A new secret for each endpoint; the previous one signs too until deliveries in flight
        have had their ``WEBHOOK_RETRY_FOR`` (a second ``v1,`` signature)."""
        until = timezone.now() + timedelta(seconds=settings.WEBHOOK_RETRY_FOR)
        endpoints = list(queryset)
        for endpoint in endpoints:
            endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, until
            endpoint.secret = new_secret()
            endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        return _show_secrets(self.admin_site, request, endpoints, "The endpoints' new secrets")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "queue": queue_stats()})


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = readonly_fields = ("attempted_at", "status_code", "response_head", "error", "duration_ms")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "endpoint"]
    list_select_related = ["event", "endpoint"]
    inlines = [AttemptInline]
    actions = ["send_again"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # The action needs it; every field stays read-only.
        return request.user.is_staff

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in Delivery._meta.fields]

    @admin.action(description="Send again")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = delivery.send_again(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} delivery(ies) will be sent again now.", messages.SUCCESS)


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = [
        "attempted_at",
        "endpoint",
        "event",
        "status_code",
        "response_head",
        "error",
        "duration_ms",
    ]
    list_filter = ["delivery__endpoint", "status_code"]
    list_select_related = ["delivery__endpoint", "delivery__event"]
    actions = ["send_again"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_staff

    @admin.display(description="endpoint")
    def endpoint(self, attempt: Attempt) -> Endpoint:
        return attempt.delivery.endpoint

    @admin.display(description="event")
    def event(self, attempt: Attempt) -> str:
        return str(attempt.delivery.event)

    @admin.action(description="Send again")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Attempt]) -> None:
        count = delivery.send_again(list(queryset.values_list("delivery_id", flat=True).distinct()))
        self.message_user(request, f"{count} delivery(ies) will be sent again now.", messages.SUCCESS)

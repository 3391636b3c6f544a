from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User, UserManager
from accounts.sessions import still_valid
from siteadmin.lists import LargeTableAdmin


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        # Stored lower-cased (a database constraint), so compare and save it that way.
        return UserManager.normalize_email(self.cleaned_data.get("email"))


class UserEditForm(UserChangeForm):
    """The password is shown only as its hash's summary, with a link to the change-password
    page; there is no field that takes a raw password or a hash."""

    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        return UserManager.normalize_email(self.cleaned_data.get("email"))


class ActiveSessionInline(admin.TabularInline):
    """The user's active sessions: refresh tokens neither used, revoked nor expired."""

    model = OutstandingToken
    verbose_name = "active session"
    verbose_name_plural = "active sessions (refresh tokens still valid)"
    fields = ("jti", "created_at", "expires_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutstandingToken]:
        return still_valid(super().get_queryset(request)).order_by("-created_at")

    def has_add_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin, LargeTableAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")
    actions = ["end_all_sessions"]
    # posts/admin.py adds each user's number of posts (accounts knows nothing of posts).
    list_display: tuple[str, ...] = ("email", "is_staff", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email",)
    ordering = ("email",)

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list:
        return [ActiveSessionInline] if obj is not None else []  # a new user has no sessions

    @admin.action(description="End all sessions of the selected users", permissions=["change"])
    def end_all_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Log the users out everywhere: every access and refresh token they hold stops working."""
        users = list(queryset)
        for user in users:
            user.end_all_sessions()
        self.message_user(request, f"Ended every session of {len(users)} user(s).", messages.SUCCESS)

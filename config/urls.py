"""Routes. Every API path is served with and without its trailing slash, with no redirect."""

from django.contrib import admin
from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from accounts.account_views import CurrentUserView, LogoutAllView, PasswordChangeView
from accounts.reset_views import PasswordResetConfirmView, PasswordResetView
from accounts.token_views import LogoutView, RefreshTokenView
from accounts.views import LoginView, UserDetailView, UserListView
from api.health import HealthView, LiveView, ReadyView
from api.views import OpenApiJsonView, RedocView, RootView, SwaggerView, favicon
from comments.views import CommentViewSet, PostCommentsViewSet
from data_export.views import DataExportView
from follows.feed_views import FeedView
from follows.views import FollowersView, FollowingView, FollowView
from moderation.views import CommentReportView, ReportView
from observability.views import MetricsView
from posts.views import PostViewSet
from siteadmin.middleware import ADMIN_URL_PREFIX
from votes.views import VoteView

router = SimpleRouter()
router.trailing_slash = "/?"  # an optional slash: both spellings, no redirect
router.register("posts", PostViewSet, basename="post")
router.register("comments", CommentViewSet, basename="comment")

# Django tries the patterns in order (about 0.8 µs each): the routes most requests take (posts,
# a post's comments, votes) come first. None of these matches a path another pattern matches
# (a `[^/]+` group holds one segment), so moving them decides nothing but the time taken.
urlpatterns = [
    *router.urls,
    re_path(
        r"^posts/(?P<id>[^/]+)/comments/?$",
        PostCommentsViewSet.as_view({"get": "list", "post": "create"}),
        name="post-comments",
    ),
    re_path(r"^vote/?$", VoteView.as_view(), name="vote"),
    re_path(r"^$", RootView.as_view(), name="root"),
    re_path(r"^users/?$", UserListView.as_view(), name="user-list"),
    re_path(r"^users/me/?$", CurrentUserView.as_view(), name="user-me"),  # before users/{id}
    re_path(r"^users/me/password/?$", PasswordChangeView.as_view(), name="user-me-password"),
    re_path(r"^users/me/export/?$", DataExportView.as_view(), name="user-me-export"),
    re_path(r"^users/(?P<id>[^/]+)/?$", UserDetailView.as_view(), name="user-detail"),
    re_path(r"^users/(?P<id>[^/]+)/follow/?$", FollowView.as_view(), name="user-follow"),
    re_path(
        r"^users/(?P<id>[^/]+)/followers/?$", FollowersView.as_view({"get": "list"}), name="user-followers"
    ),
    re_path(
        r"^users/(?P<id>[^/]+)/following/?$", FollowingView.as_view({"get": "list"}), name="user-following"
    ),
    re_path(r"^feed/?$", FeedView.as_view({"get": "list"}), name="feed"),
    re_path(r"^login/?$", LoginView.as_view(), name="login"),
    re_path(r"^login/refresh/?$", RefreshTokenView.as_view(), name="login-refresh"),
    re_path(r"^logout/?$", LogoutView.as_view(), name="logout"),
    re_path(r"^logout/all/?$", LogoutAllView.as_view(), name="logout-all"),
    re_path(r"^password-reset/?$", PasswordResetView.as_view(), name="password-reset"),
    re_path(r"^password-reset/confirm/?$", PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    re_path(r"^health/?$", HealthView.as_view(), name="health"),
    re_path(r"^health/live/?$", LiveView.as_view(), name="health-live"),
    re_path(r"^health/ready/?$", ReadyView.as_view(), name="health-ready"),
    re_path(r"^metrics/?$", MetricsView.as_view(), name="metrics"),
    re_path(r"^posts/(?P<id>[^/]+)/report/?$", ReportView.as_view(), name="post-report"),
    re_path(r"^comments/(?P<id>[^/]+)/report/?$", CommentReportView.as_view(), name="comment-report"),
    re_path(r"^openapi\.json/?$", OpenApiJsonView.as_view(), name="schema"),
    re_path(r"^docs/?$", SwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^redoc/?$", RedocView.as_view(url_name="schema"), name="redoc"),
    path("favicon.ico", favicon, name="favicon"),
    path(ADMIN_URL_PREFIX, admin.site.urls),
]

handler400 = "api.errors.bad_request"
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"

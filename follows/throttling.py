"""FOLLOW_RATE: follows and unfollows per user (CONTRACT.md §7.8)."""

from rest_framework.request import Request

from api.throttling import FixedWindowLimit, FixedWindowThrottle

FOLLOWS = FixedWindowLimit("follow", "FOLLOW_RATE")


class FollowRateThrottle(FixedWindowThrottle):
    """Every PUT and DELETE of /users/{id}/follow counts, both directions together, per user."""

    limit = FOLLOWS
    message = "Too many follows."

    def get_ident(self, request: Request) -> str:
        """Counted per user, not per address."""
        return f"user:{request.user.pk}"

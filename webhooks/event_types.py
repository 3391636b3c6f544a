"""The event types an endpoint can subscribe to (CONTRACT.md §7.6)."""

from django.db import models


class EventType(models.TextChoices):
    POST_CREATED = "post.created", "post.created"
    POST_UPDATED = "post.updated", "post.updated"
    POST_DELETED = "post.deleted", "post.deleted"
    VOTE_CREATED = "vote.created", "vote.created"
    VOTE_DELETED = "vote.deleted", "vote.deleted"
    COMMENT_CREATED = "comment.created", "comment.created"
    COMMENT_DELETED = "comment.deleted", "comment.deleted"
    REPORT_CREATED = "report.created", "report.created"
    MODERATION_ACTION = "moderation.action", "moderation.action"

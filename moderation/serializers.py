from rest_framework import serializers

from api.fields import StrictCharField
from moderation.models import Reason

NOTE_MAX_LENGTH = 1_000


class ReportSerializer(serializers.Serializer):
    """The body of ``POST /posts/{id}/report`` (docs/api.md, "Reporting a post")."""

    reason = serializers.ChoiceField(choices=Reason.values, help_text="Why the post should be looked at.")
    note = StrictCharField(
        max_length=NOTE_MAX_LENGTH,
        allow_blank=True,
        required=False,
        default="",
        help_text="Anything the moderators should know, up to 1,000 characters.",
    )

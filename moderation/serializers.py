from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from api.fields import StrictCharField
from moderation.models import Reason

NOTE_MAX_LENGTH = 1_000


# Documented in docs/api.md, "Reporting a post". The docstring is the schema's description.
@extend_schema_serializer(
    examples=[
        OpenApiExample("A spam report", value={"reason": "spam", "note": "Posted the same link ten times."})
    ]
)
class ReportSerializer(serializers.Serializer):
    """The body of ``POST /posts/{id}/report``."""

    reason = serializers.ChoiceField(choices=Reason.values, help_text="Why the post should be looked at.")
    note = StrictCharField(
        max_length=NOTE_MAX_LENGTH,
        allow_blank=True,
        required=False,
        default="",
        help_text="Anything the moderators should know, up to 1,000 characters.",
    )

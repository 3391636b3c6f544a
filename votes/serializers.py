from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from api.fields import StrictIntegerField


@extend_schema_serializer(examples=[OpenApiExample("Vote for post 1", value={"post_id": 1, "dir": 1})])
class VoteSerializer(serializers.Serializer):
    post_id = StrictIntegerField()
    dir = StrictIntegerField(min_value=0, max_value=1, help_text="1 adds your vote, 0 removes it.")


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()

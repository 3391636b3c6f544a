from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from api.fields import StrictIntegerField
from api.validation import Validator


@extend_schema_serializer(examples=[OpenApiExample("Vote for post 1", value={"post_id": 1, "dir": 1})])
class VoteSerializer(serializers.Serializer):
    post_id = StrictIntegerField()
    dir = StrictIntegerField(min_value=0, max_value=1, help_text="1 adds your vote, 0 removes it.")


#: ``VoteSerializer(data=...)``'s validated data, without building its fields per request.
validated_vote = Validator(VoteSerializer)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()

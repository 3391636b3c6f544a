"""A serializer's validation by one instance made once per process, for the hottest writes.

``Serializer(data=body).is_valid()`` builds the serializer's fields again for every request (a
ModelSerializer derives them from the model, then deep-copies them): for ``POST /posts/`` more
CPU than the INSERT. DRF itself validates many payloads with one instance, a nested
serializer's; a ``Validator`` does the same for a whole body: ``run_validation`` on one
unbound instance of the class, whose fields, validators and ``validate`` hooks are the rule.
"""

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from rest_framework import serializers


class Validator:
    """``validator(data)``: ``serializer_class(data=data)``'s ``validated_data``.

    Raises ValidationError as ``is_valid(raise_exception=True)`` does (the contract's 422, the
    same detail); a body that is not an object is left to ``is_valid`` itself, which words its
    error its own way (a top-level ``null`` under ``non_field_errors``). For serializers whose
    validation reads no ``context`` (the instance has none)."""

    def __init__(self, serializer_class: type[serializers.Serializer]) -> None:
        self.serializer_class = serializer_class

    @cached_property
    def serializer(self) -> serializers.Serializer:
        """The one instance, made at first use."""
        return self.serializer_class()

    def __call__(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            self.serializer_class(data=data).is_valid(raise_exception=True)
        return self.serializer.run_validation(data)

"""Strict serializer fields.

The contract's types are strict: a number is not a string, and ``true`` or ``1.5`` is not an
integer. Integers are also kept within PostgreSQL's 64-bit range, so a huge id is a 422 and
never reaches the database.
"""

import re
from typing import Any

from rest_framework import serializers

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]+")


class StrictCharField(serializers.CharField):
    """A JSON string only (no number or boolean turned into text), valid Unicode, kept as sent
    (no trimming unless ``trim_whitespace=True``). An optional field (``required=False``) given
    as ``null`` is as if it were left out: its default, or nothing (CONTRACT.md §1)."""

    default_error_messages = {
        "string_type": "Input should be a valid string",
        "unicode": "Input should be valid Unicode text",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None and not self.required and not self.allow_null:
            return True, self.get_default()  # raises SkipField without a default: left out
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("string_type")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape
            self.fail("unicode")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer: a JSON integer, an integral float, or a string of digits; never a bool."""

    default_error_messages = {
        "int_parsing": "Input should be a valid integer",
        "max_value": "Input should be less than or equal to {max_value}",
        "min_value": "Input should be greater than or equal to {min_value}",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", BIGINT_MIN)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("int_parsing")
        if isinstance(data, float) and data.is_integer() and abs(data) < 2**64:
            data = int(data)
        if isinstance(data, str) and len(data) <= 40 and _INTEGER.fullmatch(data.strip()):
            data = int(data.strip())
        if not isinstance(data, int):
            self.fail("int_parsing")
        return super().to_internal_value(data)


# A path id: any 64-bit integer (docs/api.md). One instance, read by api.endpoints.parse_path_id
# on every request with an id in its path and by the schema (api.autoschema): a field that is
# never bound to a serializer keeps no state between validations, and making one costs more
# than the validation itself.
PATH_ID = StrictIntegerField()


class StrictBooleanField(serializers.BooleanField):
    """A boolean as the original API took one (CONTRACT.md §1): ``true``/``false``, the
    integers ``1``/``0``, and the strings ``"true"``, ``"false"``, ``"1"``, ``"0"``, ``"yes"``,
    ``"no"``, ``"on"``, ``"off"`` in any case. Anything else (``null``, ``2``, ``1.0``, ``"y"``,
    a list) is a 422 ``bool_type``."""

    default_error_messages = {"bool_type": "Input should be a valid boolean"}
    TRUE_TEXT = frozenset({"true", "1", "yes", "on"})
    FALSE_TEXT = frozenset({"false", "0", "no", "off"})

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        # type() rather than isinstance(): a bool is an int, and was handled above.
        if type(data) is int and data in (0, 1):
            return bool(data)
        if isinstance(data, str) and len(data) <= 5:
            text = data.lower()
            if text in self.TRUE_TEXT:
                return True
            if text in self.FALSE_TEXT:
                return False
        self.fail("bool_type")

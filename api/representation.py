"""A serializer's output written by a function made from its declared fields, once.

DRF's ``Serializer.to_representation`` walks the fields of each instance again: for every field,
``get_attribute`` (with its error handling) and ``to_representation``, nested serializers
included. For the hottest answers (a page of posts) that walk is most of the response's CPU.
``representation_writer`` reads the serializer's fields once and returns a function giving the
same dict: plain values are read straight off the instance, datetimes written as DRF's
``DateTimeField`` writes them, nested serializers by writers of their own, and any other field
through its own ``to_representation``. The declared fields stay the one statement of the shape
(the schema is made from them too).
"""

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from django.utils import timezone
from rest_framework import ISO_8601, fields, serializers
from rest_framework.settings import api_settings

# Fields whose to_representation gives back a value of the model's own type unchanged: an int,
# str or bool column, read as such from the database.
_PLAIN = (fields.ReadOnlyField, fields.IntegerField, fields.CharField, fields.BooleanField)
_DATETIME = serializers.DateTimeField()

type Writer = Callable[[Any, tzinfo], Any]


def datetime_text(value: datetime, zone: tzinfo) -> str:
    """What DRF's DateTimeField gives for `value` (DATETIME_FORMAT, in `zone`, the current time
    zone), without its per-call lookups, for an aware datetime (as every one read from the
    database is); anything else goes through the field."""
    output_format = api_settings.DATETIME_FORMAT
    if value.tzinfo is None or not isinstance(output_format, str) or output_format.lower() == ISO_8601:
        return _DATETIME.to_representation(value)
    return value.astimezone(zone).strftime(output_format)


def _field_writer(field: fields.Field) -> Writer:
    """A function (instance, zone) -> the field's output for that instance."""
    attrs = tuple(field.source_attrs)

    def read(instance: Any) -> Any:
        for attr in attrs:
            instance = getattr(instance, attr)
        return instance

    if isinstance(field, serializers.Serializer):
        nested = _writer(field)
        if not attrs:  # source="*": the same instance
            return nested
        # A nullable relation (a comment's owner) is null, as DRF writes it.
        return lambda instance, zone: None if (value := read(instance)) is None else nested(value, zone)
    # DRF's DateTimeField keeps ``format`` and ``timezone`` only when given: then it is not plain.
    if type(field) is serializers.DateTimeField and not {"format", "timezone"} & vars(field).keys():
        return lambda instance, zone: (
            None if (value := read(instance)) is None else datetime_text(value, zone)
        )
    if isinstance(field, _PLAIN) and len(attrs) == 1:
        (name,) = attrs
        return lambda instance, zone: getattr(instance, name)
    return lambda instance, zone: (
        None if (value := read(instance)) is None else field.to_representation(value)
    )


def _writer(serializer: serializers.Serializer) -> Writer:
    writers = [
        (name, _field_writer(field)) for name, field in serializer.fields.items() if not field.write_only
    ]
    return lambda instance, zone: {name: write(instance, zone) for name, write in writers}


def representation_writer(serializer: serializers.Serializer) -> Callable[[Any], dict[str, Any]]:
    """A function giving ``serializer.to_representation(instance)``, made from the serializer's
    declared fields (``serializer.fields``, nested serializers included). Plain fields
    (ReadOnly, Integer, Char, Boolean) with a one-attribute source give the attribute as it is;
    so they must hold values of the field's type, as a model instance read from the database
    does. A None value is written as null, as DRF writes it, whatever the field."""
    write = _writer(serializer)

    def representation(instance: Any) -> dict[str, Any]:
        return write(instance, timezone.get_current_timezone())

    return representation

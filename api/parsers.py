"""The JSON body parser: DRF's, reading what real clients send as the original API did.

- A UTF-8 byte-order mark before the JSON (Windows tools write one) is skipped.
- JSON nested deeper than Python's parser can follow (``[[[[...]]]]`` ten thousand deep) is
  the contract's 422 ``json_invalid`` at ``["body"]``, like any other JSON it cannot read,
  rather than a ``RecursionError`` (a 500).
"""

import codecs
from collections.abc import Mapping
from typing import IO, Any, cast

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser that skips a byte-order mark and refuses nesting it cannot follow."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        """The body as Python data; raises ParseError (a 422 at ["body"]) for anything else."""
        # DRF's reading of the Content-Type's charset, which refuses codecs that are not text
        # encodings (ParseError); djangorestframework-stubs 3.18 does not declare it yet.
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        if codecs.lookup(encoding).name == "utf-8":
            encoding = "utf-8-sig"  # UTF-8 that may start with a byte-order mark
        parse_constant = json.strict_constant if self.strict else None
        try:
            # A StreamReader reads str from the byte stream: the text file json.load wants.
            text = cast(IO[str], codecs.getreader(encoding)(stream))
            return json.load(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError("JSON parse error") from exc

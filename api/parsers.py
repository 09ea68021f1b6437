"""A JSON parser with bounds: body size, nesting depth, and text a database can store."""

import json
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .errors import RequestTooLarge

STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON document, counted without parsing it."""
    depth = deepest = 0
    for bracket in BRACKETS.finditer(STRINGS.sub(b'""', raw)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


class BoundedJSONParser(JSONParser):
    """Refuses, as 413 or 400, bodies over DATA_UPLOAD_MAX_MEMORY_SIZE, nested deeper than
    API_MAX_JSON_DEPTH, or holding text that is not valid Unicode (a lone surrogate)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge()
        if json_depth(raw) > settings.API_MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {settings.API_MAX_JSON_DEPTH} levels.")
        try:
            data = json.loads(raw.decode(settings.DEFAULT_CHARSET), parse_constant=_refuse_constant)
            json.dumps(data, ensure_ascii=False).encode()
        except UnicodeError as exc:
            raise ParseError("JSON parse error - the body is not valid UTF-8 text.") from exc
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        return data

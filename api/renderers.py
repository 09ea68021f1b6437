"""JSON rendering with orjson, and the cache of plan renderings keyed by the plan's ETag."""

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any
from uuid import UUID

import orjson
from django.conf import settings
from django.core.cache import cache
from django.utils.http import parse_etags
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from planning.models import Plan

_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_encoder = JSONEncoder()


def json_bytes(data: Any) -> bytes:
    """`data` as compact UTF-8 JSON; what orjson does not know (datetimes, lazy text, decimals) is encoded as
    DRF's encoder does, so the output matches DRF's JSONRenderer."""
    return orjson.dumps(data, default=_encoder.default, option=_ORJSON_OPTIONS)


class FastJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer on orjson (about 8x faster on a plan: docs/benchmarks.md, API); an indented answer,
    when a client asks for one, still goes through DRF's own."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        return json_bytes(data)


# --- Plan renderings --------------------------------------------------------------------------------------
# A plan's rendering changes only with its version (every state change bumps it), its event sequence
# (every agent step appends an event) or the shape the code renders (RENDERING_SCHEMA), so
# "<version>-<event_seq>-r<schema>" names one rendering for good, and "-i" the support staff's, which shows
# internals. Renderings are kept in this process (a bounded LRU: no round trip) and in the shared cache
# (another process rendered it already). Bump RENDERING_SCHEMA when the detail serializer's output changes:
# a deploy then neither serves the old shape from the cache nor answers 304 to a client holding it.
RENDERING_SCHEMA = 1
_local: OrderedDict[str, bytes] = OrderedDict()
_local_lock = Lock()


def plan_etag(*, version: int, event_seq: int, internals: bool) -> str:
    """The strong ETag of a plan's rendering; its leading integer is the plan's version."""
    return f'"{version}-{event_seq}-r{RENDERING_SCHEMA}{"-i" if internals else ""}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks for this header)."""
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def _key(plan_id: UUID | str, etag: str) -> str:
    return f"plan-rendering:{RENDERING_SCHEMA}:{plan_id}:{etag.strip(chr(34))}"


def _local_get(key: str) -> bytes | None:
    with _local_lock:
        body = _local.get(key)
        if body is not None:
            _local.move_to_end(key)
        return body


def _local_put(key: str, body: bytes) -> None:
    with _local_lock:
        _local[key] = body
        _local.move_to_end(key)
        while len(_local) > settings.API_PLAN_RENDERINGS_LOCAL:
            _local.popitem(last=False)


def plan_rendering(
    *, plan_id: UUID | str, etag: str, internals: bool, load: Callable[[], Plan], render: Callable[[Plan], Any]
) -> tuple[str, bytes]:
    """The JSON body of a plan's rendering for `etag` and the ETag it has: from this process, else the shared
    cache, else `load()` and `render()` it (stored under the ETag of the plan as loaded, which may be newer
    than `etag` when the plan changed in between: a key always names what it holds)."""
    key = _key(plan_id, etag)
    body = _local_get(key)
    if body is None:
        body = cache.get(key)
        if body is None:
            plan = load()
            etag = plan_etag(version=plan.version, event_seq=plan.event_seq, internals=internals)
            key, body = _key(plan_id, etag), json_bytes(render(plan))
            cache.set(key, body, timeout=settings.API_PLAN_RENDERINGS_TTL)
        _local_put(key, body)
    return etag, body


def plan_renderings_forget() -> None:
    """Empty this process's renderings (tests)."""
    with _local_lock:
        _local.clear()

"""DRF throttles keyed by the real client address (trusted proxies only) and by user or API key.

Each check is one Redis round trip (a Lua script): a sliding-window counter, two integers per client and
window, instead of DRF's stock history of request timestamps read and written whole through the cache.
"""

import math

from django_redis import get_redis_connection
from redis.commands.core import Script
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle

from .ip import client_ip
from .permissions import is_api_key

# KEYS: this window's counter, the previous window's. ARGV: limit, the counter's lifetime (ms), the share of
# the previous window still inside the sliding window (0..1). Returns {allowed, this window, previous window}.
SLIDING_WINDOW = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * tonumber(ARGV[3]) + current + 1 > tonumber(ARGV[1]) then
  return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, current, previous}
"""
_script: Script | None = None


def window_hit(*, key: str, now: float, limit: int, window: int) -> tuple[bool, int, int, float]:
    """Count one request against `limit` per `window` seconds (sliding, approximated from two fixed windows).

    Returns (allowed, this window's count, the previous window's count, seconds into this window).
    """
    global _script
    client = get_redis_connection("default")
    if _script is None or _script.registered_client is not client:
        _script = client.register_script(SLIDING_WINDOW)
    index, elapsed = divmod(now, window)
    keys = [f"{key}:{int(index)}", f"{key}:{int(index) - 1}"]
    allowed, current, previous = _script(keys=keys, args=[limit, window * 2000, (window - elapsed) / window])
    return bool(allowed), int(current), int(previous), elapsed


class SlidingWindowThrottle(SimpleRateThrottle):
    """SimpleRateThrottle's rates and keys, counted in Redis in one round trip."""

    cache_format = "partyplanner:throttle:%(scope)s:%(ident)s"

    def allow_request(self, request: Request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        allowed, current, previous, elapsed = window_hit(
            key=self.key, now=self.timer(), limit=self.num_requests, window=self.duration
        )
        self.wait_seconds = 0.0 if allowed else self._wait(current, previous, elapsed)
        return allowed

    def _wait(self, current: int, previous: int, elapsed: float) -> float:
        """Seconds until one more request fits in the sliding window."""
        if current + 1 > self.num_requests:
            # Into the next window, until this window's count, sliding out, leaves room for one more.
            return self.duration - elapsed + self.duration * (1 - (self.num_requests - 1) / current)
        # previous * (duration - elapsed - t) / duration + current + 1 <= limit
        spare = (self.num_requests - current - 1) * self.duration / previous
        return max(0.0, self.duration - elapsed - spare)

    def wait(self) -> float | None:
        return math.ceil(self.wait_seconds) or 1


def client_ident(request: Request) -> str:
    """ "key:<id>" for an API key, "user:<pk>" for a user, else the client's address."""
    if is_api_key(request):
        return f"key:{request.auth.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{client_ip(request)}"


class ClientIpMixin:
    def get_ident(self, request: Request) -> str:
        return client_ip(request)


class AnonThrottle(ClientIpMixin, AnonRateThrottle, SlidingWindowThrottle):
    """Anonymous requests, per client address."""


class UserOrKeyThrottle(ClientIpMixin, SlidingWindowThrottle):
    """Authenticated requests, per user, and per API key apart from its user."""

    scope = "user"

    def get_cache_key(self, request: Request, view) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ident(request)}


class ScopedThrottle(ClientIpMixin, ScopedRateThrottle, SlidingWindowThrottle):
    """A view's `throttle_scope`, per user or key when authenticated, else per client address."""

    cache_format = SlidingWindowThrottle.cache_format

    def get_cache_key(self, request: Request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ident(request)}

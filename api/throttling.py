"""DRF throttles keyed by the real client address (trusted proxies only) and by user or API key."""

from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle

from .ip import client_ip
from .permissions import is_api_key


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


class AnonThrottle(ClientIpMixin, AnonRateThrottle):
    """Anonymous requests, per client address."""


class UserOrKeyThrottle(ClientIpMixin, SimpleRateThrottle):
    """Authenticated requests, per user, and per API key apart from its user."""

    scope = "user"

    def get_cache_key(self, request: Request, view) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ident(request)}


class ScopedThrottle(ClientIpMixin, ScopedRateThrottle):
    """A view's `throttle_scope`, per user or key when authenticated, else per client address."""

    def get_cache_key(self, request: Request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ident(request)}

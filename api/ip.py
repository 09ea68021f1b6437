"""The client's address, trusting X-Forwarded-For only as far as the configured proxies."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR with no trusted proxy; else the address the outermost trusted proxy saw.

    Each of TRUSTED_PROXY_COUNT proxies appends the address it received from, so the client is the
    entry that many places from the right; entries further left were written by the client and are
    ignored. Same rule as DRF's NUM_PROXIES.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote_addr
    addresses = [address.strip() for address in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote_addr


def ratelimit_ip_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key function: the client's address."""
    return client_ip(request)

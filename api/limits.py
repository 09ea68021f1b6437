"""Limits DRF's throttles cannot reach, on django-ratelimit and the shared cache.

- failed logins per account (from any number of addresses), for the token endpoint and the admin;
- the admin login per client address.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from .exceptions import too_many_requests
from .ip import ratelimit_ip_key

LOGIN_ACCOUNT_GROUP = "login-account"
ADMIN_LOGIN_GROUP = "admin-login"


def _account_usage(request: HttpRequest, username: str, *, increment: bool) -> dict | None:
    return get_usage(
        request,
        group=LOGIN_ACCOUNT_GROUP,
        key=lambda group, request: username.strip().lower(),
        rate=settings.LOGIN_FAILURES_PER_ACCOUNT,
        method=ALL,
        increment=increment,
    )


def login_lockout_remaining(*, request: HttpRequest, username: object) -> int:
    """Seconds until `username` may try again (0: not locked out)."""
    if not isinstance(username, str) or not username.strip():
        return 0
    usage = _account_usage(request, username, increment=False)
    if usage is None or usage["count"] < usage["limit"]:
        return 0
    return max(usage["time_left"], 1)


def login_failure_record(*, request: HttpRequest, username: object) -> None:
    """Count one failed login against `username`."""
    if isinstance(username, str) and username.strip():
        _account_usage(request, username, increment=True)


def admin_login_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The admin login view, limited per client address and per account (429 with Retry-After)."""

    @wraps(view)
    def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            usage = get_usage(
                request,
                group=ADMIN_LOGIN_GROUP,
                key=ratelimit_ip_key,
                rate=settings.ADMIN_LOGIN_RATE,
                method="POST",
                increment=True,
            )
            wait = max(usage["time_left"], 1) if usage and usage["should_limit"] else 0
            wait = wait or login_lockout_remaining(request=request, username=request.POST.get("username"))
            if wait:
                return too_many_requests(request, wait)
        return view(request, *args, **kwargs)

    return limited

"""One error shape for every API failure: {"error": {"code", "message", "fields"?}}.

DRF's exceptions go through `api_exception_handler`; Django's own 400/403/404/413/500 and CSRF
failures go through the handlers below, which answer JSON under /api/ and Django's pages elsewhere.
"""

import logging
from typing import Any

import redis
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from django_redis.exceptions import ConnectionInterrupted
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from agents.analyzer import BriefOutOfRange

from .errors import RequestTooLarge, ServiceUnavailable, Unprocessable

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
OUTAGES = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError, ConnectionInterrupted)


def error_body(code: str, message: str, fields: Any = None) -> dict[str, Any]:
    """The machine-readable error body."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _message(detail: Any) -> str:
    """A readable sentence from a DRF detail, which may be a string, a list or a dict."""
    if isinstance(detail, dict):
        detail = next(iter(detail.values()), "")
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
    if isinstance(detail, dict | list):
        return _message(detail)
    return str(detail)


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, dict):
        codes = next(iter(codes.values()), exc.default_code)
    if isinstance(codes, list):
        codes = codes[0] if codes else exc.default_code
    return codes if isinstance(codes, str) else exc.default_code


def _as_api_exception(exc: Exception) -> Exception:
    """Django's exceptions as their DRF counterparts."""
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return exceptions.ValidationError(fields)
    if isinstance(exc, BriefOutOfRange):
        # Well-formed and schema-valid, but it describes a party beyond what we can plan: 422, not 400.
        refused = Unprocessable(exc.message, code="out_of_range")
        refused.extra = {"fields": {exc.field: [exc.message]}}
        return refused
    if isinstance(exc, OUTAGES):
        logger.exception("A backing service is unavailable")
        return ServiceUnavailable()
    return exc


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, reshaped; an unreachable database or Redis answers 503 with Retry-After, not 500."""
    message = "The request is not valid."
    exc = _as_api_exception(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid", message, fields)
    else:
        response.data = error_body(_code(exc), _message(exc.detail))
        response.data["error"].update(getattr(exc, "extra", None) or {})
    if getattr(exc, "retry_after", None):
        response["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = str(settings.API_RETRY_AFTER_OUTAGE)
    return response


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(status_code: int, code: str, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse(error_body(code, message), status=status_code)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def too_many_requests(request: HttpRequest, wait: int) -> HttpResponse:
    """429 with Retry-After: JSON under /api/, plain text elsewhere (the admin)."""
    message = f"Too many attempts; try again in {wait} seconds."
    if is_api_request(request):
        return json_error(429, "throttled", message, Retry_After=str(wait))
    response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 (and 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    if isinstance(exception, RequestDataTooBig):
        if is_api_request(request):
            return json_error(413, RequestTooLarge.default_code, RequestTooLarge.default_detail)
        return HttpResponse(RequestTooLarge.default_detail, status=413, content_type="text/plain; charset=utf-8")
    if is_api_request(request):
        return json_error(400, "bad_request", "The request could not be understood.")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return json_error(403, "permission_denied", "You do not have permission to perform this action.")
    return defaults.permission_denied(request, exception)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """JSON 404 for URLs under /api/ that match no route."""
    if is_api_request(request):
        return json_error(404, "not_found", "Not found.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """JSON 500 under /api/, so that clients always get the same error shape."""
    if is_api_request(request):
        return json_error(500, "server_error", "Internal server error.")
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api_request(request):
        return json_error(403, "csrf_failed", "CSRF verification failed.")
    return django_csrf_failure(request, reason)

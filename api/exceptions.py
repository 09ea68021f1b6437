"""One error shape for every API failure: {"error": {"code", "message", "fields"?}}."""

import logging
from typing import Any

import redis
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django_redis.exceptions import ConnectionInterrupted
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from agents.analyzer import BriefOutOfRange

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, fields: Any = None) -> dict[str, Any]:
    """The machine-readable error body."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


OUTAGES = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError, ConnectionInterrupted)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, reshaped; an unreachable database or Redis answers 503 with Retry-After, not 500."""
    if isinstance(exc, OUTAGES):
        logger.exception("A backing service is unavailable while serving %s", context.get("request"))
        return Response(
            error_body("service_unavailable", "The service is briefly unavailable; try again shortly."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, BriefOutOfRange):
        return Response(
            error_body("invalid", exc.message, {exc.field: [exc.message]}), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid", "The request is not valid.", fields)
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response.data = error_body(code, str(exc.detail))
    if getattr(exc, "retry_after", None):
        response["Retry-After"] = str(exc.retry_after)
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """JSON 404 for URLs that match no route."""
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    """JSON 500, so that clients always get the same error shape."""
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)

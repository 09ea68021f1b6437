"""API exceptions of our own (importable before DRF's views, e.g. by the parser)."""

from rest_framework import exceptions, status


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is briefly unavailable; try again shortly."
    default_code = "service_unavailable"


class Conflict(exceptions.APIException):
    """The request is well formed but the resource's state does not allow it (e.g. feedback on a running plan).

    `extra` adds machine-readable facts to the error body (e.g. the plan's current version).
    """

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource's current state does not allow this request."
    default_code = "conflict"

    def __init__(self, detail: str | None = None, code: str | None = None, **extra: object) -> None:
        super().__init__(detail, code)
        self.extra = extra


class Unprocessable(exceptions.APIException):
    """The request is well formed but contradicts an earlier one (e.g. an idempotency key reused with another body)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"

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
    """The request is well formed but the resource's state does not allow it (e.g. feedback on a running plan)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource's current state does not allow this request."
    default_code = "conflict"

"""The OpenAPI schema documents every error an operation can answer, for every view, new ones included."""

from http import HTTPStatus

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from .serializers import ErrorSerializer

# Any request under /api/ can be malformed (400), too large (413), ask for a media type we do not
# produce (406) or meet an outage of the database or Redis (503).
ALWAYS = (400, 406, 413, 503)


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error responses each operation can give, in the one error shape.

    A view adds statuses its classes do not reveal with `error_statuses` (e.g. 401 on the token endpoint).
    """

    def error_statuses(self, operation: dict) -> set[int]:
        statuses = set(ALWAYS) | set(getattr(self.view, "error_statuses", ()))
        permissions = self.view.get_permissions()
        if not all(isinstance(permission, AllowAny) for permission in permissions):
            statuses |= {401, 403}
        if "{" in self.path or (self.method == "GET" and self._is_list_view() and self._get_paginator()):
            statuses.add(404)  # an unknown id, or a cursor that points nowhere
        if "requestBody" in operation:
            statuses.add(415)
        if self.view.get_throttles():
            statuses.add(429)
        return statuses

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        if "requestBody" in operation and getattr(self.get_request_serializer(), "min_fields", 0):
            operation["requestBody"]["required"] = True
        for status in sorted(self.error_statuses(operation)):
            code = str(status)
            if code not in operation["responses"]:
                response = OpenApiResponse(ErrorSerializer, description=HTTPStatus(status).phrase)
                operation["responses"][code] = self._get_response_for_code(response, code)
        return operation

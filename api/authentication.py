"""API-key authentication for service clients: `Authorization: Api-Key <prefix>.<secret>`."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .services import api_key_authenticate

KEYWORD = "Api-Key"


def api_key_from_header(value: str) -> str | None:
    """The raw key in an Authorization header value, or None when the header is not an API key."""
    scheme, _, raw_key = value.partition(" ")
    return raw_key.strip() if scheme == KEYWORD else None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates as the key's user; `request.auth` is the key, so scopes and throttles can see it."""

    def authenticate(self, request: Request):
        raw_key = api_key_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
        if raw_key is None:
            return None
        authenticated = api_key_authenticate(raw_key=raw_key)
        if authenticated is None:
            raise exceptions.AuthenticationFailed("The API key is not valid.", code="invalid_api_key")
        return authenticated

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f'"{KEYWORD} <key>": a service client key, scoped to read and/or create.',
        }

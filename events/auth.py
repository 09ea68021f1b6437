"""Who is asking: one function maps the credentials a client presents to a user, for every stream."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError


def user_for_token(raw: str):
    """The active user a raw credential belongs to, or None for a missing, bad or expired one.

    Today a JWT access token; another kind of credential (an API key) is one more lookup here.
    """
    if not raw:
        return None
    authentication = JWTAuthentication()
    try:
        user = authentication.get_user(authentication.get_validated_token(raw.encode()))
    except (InvalidToken, AuthenticationFailed, TokenError):
        return None
    return user if user.is_active else None


def scope_token(scope: dict) -> str:
    """The token in `Authorization: Bearer …` or, for browsers' WebSocket and EventSource, `?access_token=`."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return parse_qs(scope.get("query_string", b"").decode("latin-1")).get("access_token", [""])[0]


async def scope_user(scope: dict):
    """The user behind an ASGI connection: its token if it presents one, else its signed-in session."""
    token = scope_token(scope)
    if token:
        return await database_sync_to_async(user_for_token)(token)
    session_user = scope.get("user")
    if session_user is not None and session_user.is_authenticated:
        return session_user
    return None

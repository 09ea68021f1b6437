"""Authentication: stateless JWT bearer tokens for people, API keys (`Authorization: Api-Key <prefix>.<secret>`)
for service clients."""

import time
from collections import OrderedDict
from threading import Lock
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django_redis import get_redis_connection
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token
from rest_framework_simplejwt.utils import aware_utcnow

from .permissions import OPERATE, READ_ANY_PLAN, SEE_INTERNALS
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


# --- Stateless JWT: the access token carries what the API checks, so no user query per request ---------

ROLE_PERMISSIONS = (READ_ANY_PLAN, SEE_INTERNALS, OPERATE)
PERMISSIONS_CLAIM = "perms"
ISSUED_CLAIM = "issued"
STAFF_CLAIM = "staff"


def role_claims(user) -> dict[str, Any]:
    """The claims an access token carries for `user`: the role permissions it holds, whether it is staff (the
    event streams let staff watch any plan), and its username."""
    return {
        PERMISSIONS_CLAIM: [permission for permission in ROLE_PERMISSIONS if user.has_perm(permission)],
        STAFF_CLAIM: bool(user.is_staff),
        "username": user.get_username(),
    }


class RoleRefreshToken(RefreshToken):
    """A refresh token whose access tokens carry the user's role permissions as they are when each one is made
    (at login and at every refresh), not as they were at login."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.no_copy_claims = (*self.no_copy_claims, PERMISSIONS_CLAIM, ISSUED_CLAIM, STAFF_CLAIM)

    @property
    def access_token(self) -> AccessToken:
        access = super().access_token
        user = get_user_model().objects.get(**{jwt_settings.USER_ID_FIELD: self[jwt_settings.USER_ID_CLAIM]})
        for claim, value in role_claims(user).items():
            access[claim] = value
        access[ISSUED_CLAIM] = time.time()  # `iat` has whole seconds: too coarse to order against a revocation
        return access


class _Revocations:
    """Users whose access tokens issued before a time are refused: a sorted set in Redis (user id, time),
    trimmed to the access lifetime, read by each process at most once every API_REVOCATIONS_REFRESH seconds
    (so a request pays no round trip for it); the process that revokes knows at once."""

    key = "partyplanner:auth:revoked"

    def __init__(self) -> None:
        self.lock = Lock()
        self.before: dict[int, float] = {}
        self.read_at = float("-inf")

    def _lifetime(self) -> float:
        return jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds() + 60

    def add(self, user_id: int) -> None:
        now = time.time()
        client = get_redis_connection("default")
        with client.pipeline() as pipe:
            pipe.zadd(self.key, {str(user_id): now})
            pipe.zremrangebyscore(self.key, "-inf", now - self._lifetime())
            pipe.execute()
        with self.lock:
            self.before[user_id] = now

    def revoked_before(self, user_id: int) -> float | None:
        if time.monotonic() - self.read_at >= settings.API_REVOCATIONS_REFRESH:
            since = time.time() - self._lifetime()
            rows = get_redis_connection("default").zrangebyscore(self.key, since, "+inf", withscores=True)
            with self.lock:
                self.before = {int(member): score for member, score in rows}
                self.read_at = time.monotonic()
        return self.before.get(user_id)

    def forget(self) -> None:
        with self.lock:
            self.before, self.read_at = {}, float("-inf")


revocations = _Revocations()


def tokens_revoke(*, user_id: int) -> None:
    """Refuse every access token of `user_id` issued up to now (until they would have expired anyway)."""
    revocations.add(user_id)


class _VerifiedTokens:
    """Access tokens this process has verified (signature, type, claims), by their raw bytes, so a client's
    next request with the same token skips the signature check. Expiry is checked again on every use; a
    revocation is checked per request in `get_user`, as for a token verified anew."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.lock = Lock()
        self.tokens: OrderedDict[bytes, Token] = OrderedDict()

    def get(self, raw: bytes) -> Token | None:
        with self.lock:
            token = self.tokens.get(raw)
            if token is not None:
                self.tokens.move_to_end(raw)
        if token is None:
            return None
        try:
            token.check_exp(current_time=aware_utcnow())  # not the time the token was first verified
        except TokenError:
            with self.lock:
                self.tokens.pop(raw, None)
            return None
        return token

    def put(self, raw: bytes, token: Token) -> None:
        with self.lock:
            self.tokens[raw] = token
            while len(self.tokens) > self.size:
                self.tokens.popitem(last=False)

    def forget(self) -> None:
        with self.lock:
            self.tokens.clear()


verified_tokens = _VerifiedTokens()


class StatelessJWTAuthentication(JWTAuthentication):
    """JWT bearer authentication without a user query: the user is built from the token's claims.

    `request.user` is an unsaved-looking `User` with only the id, username, staff flag and role permissions of
    the token (enough for ownership, throttles, audit records and foreign keys). A token's signature is checked
    once per process (`verified_tokens`), its expiry on every request. A user deactivated, deleted or
    changed in role or password since the token was issued is refused through the revocation list (read from
    Redis at most once a second per process). A token without the permissions claim (issued before this
    scheme) is checked against the database.
    """

    def get_validated_token(self, raw_token: bytes) -> Token:
        """The verified token: from this process's cache of verified tokens, else verified and remembered."""
        token = verified_tokens.get(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)
            verified_tokens.put(raw_token, token)
        return token

    def get_user(self, validated_token: Token):
        if PERMISSIONS_CLAIM not in validated_token:
            return super().get_user(validated_token)
        try:
            user_id = int(validated_token[jwt_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        revoked_before = revocations.revoked_before(user_id)
        issued = validated_token.get(ISSUED_CLAIM)
        if revoked_before is not None and (not isinstance(issued, float | int) or issued <= revoked_before):
            raise exceptions.AuthenticationFailed("This token has been revoked; log in again.", code="token_revoked")
        user = get_user_model()(pk=user_id, is_active=True, is_staff=validated_token.get(STAFF_CLAIM) is True)
        user.username = str(validated_token.get("username", ""))
        claimed = validated_token[PERMISSIONS_CLAIM]
        user._perm_cache = {permission for permission in claimed if isinstance(permission, str)}
        user._user_perm_cache = user._group_perm_cache = user._perm_cache
        return user


class StatelessJWTAuthenticationScheme(SimpleJWTScheme):
    target_class = StatelessJWTAuthentication

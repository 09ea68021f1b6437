"""Services of the API layer: the audit log, API keys and idempotent requests."""

import datetime
import hashlib
import ipaddress
import json
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .ip import client_ip
from .models import ApiKey, ApiKeyScope, AuditAction, AuditEntry, IdempotencyKey


def audit_record(
    *,
    action: AuditAction,
    actor: AbstractBaseUser | None = None,
    actor_name: str = "",
    request: HttpRequest | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the audit log (actor, client address and time)."""
    ip = client_ip(request) if request is not None else None
    try:
        ipaddress.ip_address(ip or "")
    except ValueError:
        ip = None
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        actor_name=(actor_name or (actor.get_username() if actor else ""))[:150],
        ip=ip,
        target=target[:200],
        details=details or {},
    )


def api_key_scopes_clean(scopes: list[str]) -> list[str]:
    """The scopes, checked and in a stable order; raises ValueError on an unknown one."""
    unknown = set(scopes) - set(ApiKeyScope.values)
    if unknown or not scopes:
        raise ValueError(f"Scopes must be a non-empty subset of {', '.join(ApiKeyScope.values)}.")
    return [scope for scope in ApiKeyScope.values if scope in scopes]


@transaction.atomic
def api_key_create(
    *, user: AbstractBaseUser, name: str, scopes: list[str], created_by: AbstractBaseUser | None = None, request=None
) -> tuple[ApiKey, str]:
    """A new key for `user`; returns the key row and the raw key, which is shown once and never stored."""
    key, raw_key = ApiKey.objects.create_key(user=user, name=name, scopes=api_key_scopes_clean(scopes))
    audit_record(
        action=AuditAction.KEY_CREATED,
        actor=created_by,
        request=request,
        target=f"api key {key.prefix}",
        details={"user": user.get_username(), "name": name, "scopes": key.scopes},
    )
    return key, raw_key


@transaction.atomic
def api_key_revoke(*, key: ApiKey, revoked_by: AbstractBaseUser | None = None, request=None) -> ApiKey:
    """Revoke a key for good (idempotent)."""
    if not key.revoked:
        key.revoked = True
        key.save(update_fields=["revoked"])
        audit_record(
            action=AuditAction.KEY_REVOKED,
            actor=revoked_by,
            request=request,
            target=f"api key {key.prefix}",
            details={"user": key.user.get_username(), "name": key.name},
        )
    return key


def api_key_authenticate(*, raw_key: str) -> tuple[AbstractBaseUser, ApiKey] | None:
    """The (user, key) a raw key stands for, or None for an unknown, revoked or expired key or inactive user.

    Usable outside DRF (e.g. a WebSocket handshake). Records the last use, at most once a minute.
    """
    if not isinstance(raw_key, str) or "." not in raw_key or len(raw_key) > 200:
        return None
    try:
        key = ApiKey.objects.get_from_key(raw_key)
    except ApiKey.DoesNotExist:
        return None
    if key.has_expired or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > datetime.timedelta(
        seconds=settings.API_KEY_LAST_USED_PRECISION
    ):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key.user, key


def operator_fault_set(*, actor: AbstractBaseUser, request: HttpRequest, agent: str, **fault: Any) -> dict[str, Any]:
    """Inject a fault at an agent's provider on every worker, audited."""
    from agents.faults import fault_set

    result = fault_set(agent, **fault)
    audit_record(
        action=AuditAction.OPERATOR_ACTION, actor=actor, request=request, target=f"fault {agent}", details=result
    )
    return result


def operator_fault_clear(*, actor: AbstractBaseUser, request: HttpRequest, agent: str) -> None:
    """Remove an agent's run-time fault, audited."""
    from agents.faults import fault_clear

    fault_clear(agent)
    audit_record(action=AuditAction.OPERATOR_ACTION, actor=actor, request=request, target=f"fault {agent}", details={})


def operator_breaker_reset(*, actor: AbstractBaseUser, request: HttpRequest, agent: str) -> dict[str, Any]:
    """Close an agent's circuit breaker on every worker, audited."""
    from agents.breaker import breaker_fresh

    breaker = breaker_fresh(f"catalog.{agent}")
    before = breaker.current_state
    breaker.close()
    audit_record(
        action=AuditAction.OPERATOR_ACTION,
        actor=actor,
        request=request,
        target=f"breaker {agent}",
        details={"reset_from": before},
    )
    return breaker_state(agent=agent)


def breaker_state(*, agent: str) -> dict[str, Any]:
    """One agent's circuit breaker as every worker sees it."""
    from agents.breaker import breaker_fresh

    breaker = breaker_fresh(f"catalog.{agent}")
    return {"name": agent, "state": breaker.current_state, "fail_counter": breaker.fail_counter}


def refresh_token_revoke(*, raw_token: str, request: HttpRequest | None = None) -> None:
    """Blacklist a refresh token (logout); an invalid, expired or revoked one raises InvalidToken (401)."""
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
    from rest_framework_simplejwt.settings import api_settings
    from rest_framework_simplejwt.tokens import RefreshToken

    try:
        token = RefreshToken(raw_token)
        token.blacklist()
    except TokenError as exc:
        raise InvalidToken(exc.args[0]) from exc
    user = get_user_model().objects.filter(pk=token.get(api_settings.USER_ID_CLAIM)).first()
    audit_record(action=AuditAction.LOGOUT, actor=user, request=request, target="api")


def operator_dead_letter_replay(*, actor: AbstractBaseUser, request: HttpRequest, dead_letter_id: int) -> str:
    """Replay one dead letter (idempotent), audited."""
    from agents.services import dead_letter_replay

    outcome = dead_letter_replay(dead_letter_id=dead_letter_id, actor=actor)
    audit_record(
        action=AuditAction.OPERATOR_ACTION,
        actor=actor,
        request=request,
        target=f"dead letter {dead_letter_id}",
        details={"outcome": outcome},
    )
    return outcome


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key came back with a different request body."""


def request_digest(body: Any) -> str:
    """SHA-256 of a request body in canonical JSON (key order and spacing do not matter)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def idempotent_create(
    *, user: AbstractBaseUser, key: str, body: Any, create: Callable[[], Any]
) -> tuple[IdempotencyKey, bool]:
    """Run `create` (which returns the plan it made) once per user and key within API_IDEMPOTENCY_TTL.

    Returns the key's record and whether this call created; a repeat finds the record of the first
    call (with its plan and, once stored, its answer). Two concurrent calls with one key create once:
    the second waits on the key's unique index until the first commits. The record and what `create`
    writes commit together, so a create that fails leaves the key unused. Raises IdempotencyKeyReused
    when the key was used with another body.
    """
    digest = request_digest(body)
    expired = timezone.now() - datetime.timedelta(seconds=settings.API_IDEMPOTENCY_TTL)
    with transaction.atomic():
        IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=expired).delete()
        record, created = IdempotencyKey.objects.get_or_create(user=user, key=key, defaults={"request_digest": digest})
        if not created:
            if record.request_digest != digest:
                raise IdempotencyKeyReused(f"The Idempotency-Key {key!r} was used with a different request body.")
            return record, False
        record.plan = create()
        record.save(update_fields=["plan"])
    return record, True


def idempotent_response_store(*, record: IdempotencyKey, status: int, body: Mapping[str, Any]) -> None:
    """Keep the first answer to an idempotent request, to replay it."""
    IdempotencyKey.objects.filter(pk=record.pk, response_status__isnull=True).update(
        response_status=status, response_body=json.loads(json.dumps(body, default=str))
    )

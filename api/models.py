"""API keys for service clients, the audit log, and the permissions behind the roles."""

from typing import ClassVar

from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey


class ApiKeyScope(models.TextChoices):
    READ = "read"
    CREATE = "create"


class ApiKey(AbstractAPIKey):
    """A service client's key: acts as its user, within its scopes; only a hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    scopes = models.JSONField(default=list, help_text='Any of "read" (GET) and "create" (POST).')
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditAction(models.TextChoices):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    KEY_CREATED = "key_created"
    KEY_REVOKED = "key_revoked"
    ROLE_CHANGED = "role_changed"
    OPERATOR_ACTION = "operator_action"


class AuditEntry(models.Model):
    """Who did what, from where, when; append-only."""

    action = models.CharField(max_length=32, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="The username given, even when unknown.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["action", "-created_at"], name="audit_action_created")]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_name or '-'} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class Access(models.Model):
    """No rows: carries the permissions the roles are made of (see api/permissions.py)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions: ClassVar[list[tuple[str, str]]] = [
            ("read_any_plan", "Can read any user's plan"),
            ("see_internals", "Can see internals such as raw agent errors"),
            ("operate", "Can replay dead letters and control breakers and faults"),
        ]

    def __str__(self) -> str:
        return "access"


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` on a create request: the same key and body within the retention window
    answer with the first response instead of creating again; the same key with another body is refused."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64, help_text="SHA-256 of the request's canonical JSON body.")
    plan = models.ForeignKey("planning.Plan", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotencykey_unique_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created")]

    def __str__(self) -> str:
        return f"{self.key} of user {self.user_id}"

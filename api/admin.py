"""Admin: API keys (shown once, stored hashed), the audit log (read-only), audited role changes, and the
dead-letter store with (audited) replay."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from planning.models import DeadLetter

from .models import ApiKey, AuditAction, AuditEntry
from .services import api_key_create, api_key_revoke, audit_record, operator_dead_letter_replay

admin.site.unregister(APIKey)


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    list_display = ("prefix", "name", "user", "scopes", "created", "last_used_at", "expiry_date", "revoked")
    list_filter = ("revoked", "created")
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("prefix", "last_used_at")

    def save_model(self, request, obj: ApiKey, form=None, change: bool = False) -> None:
        if not change:
            key, raw_key = api_key_create(
                user=obj.user, name=obj.name, scopes=obj.scopes, created_by=request.user, request=request
            )
            obj.pk, obj.prefix = key.pk, key.prefix
            messages.warning(
                request, f"The API key for {key.name} is: {raw_key} — store it now, it is not shown again."
            )
            return
        if obj.revoked and not ApiKey.objects.get(pk=obj.pk).revoked:
            obj.revoked = False
            obj.save()
            api_key_revoke(key=obj, revoked_by=request.user, request=request)
            return
        obj.save()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor_name", "ip", "target")
    list_filter = ("action", "created_at")
    search_fields = ("actor_name", "ip", "target")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    """Django's user admin; changes to groups, staff or superuser status are audited."""

    def save_model(self, request, obj, form, change: bool) -> None:
        request.roles_before = self.roles_of(obj) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change: bool) -> None:
        user = form.instance
        before = getattr(request, "roles_before", {})
        super().save_related(request, form, formsets, change)
        after = self.roles_of(user)
        if before != after:
            audit_record(
                action=AuditAction.ROLE_CHANGED,
                actor=request.user,
                request=request,
                target=f"user {user.get_username()}",
                details={"before": before, "after": after},
            )

    @staticmethod
    def roles_of(user) -> dict:
        user = User.objects.get(pk=user.pk)
        return {
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "is_staff": user.is_staff,
            "is_superuser": user.is_superuser,
        }


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    """Tasks that ended for good without doing their work; select some and replay them (once each)."""

    list_display = ("created_at", "task_name", "agent", "plan", "reason", "attempts", "replayed_at", "replay_outcome")
    list_filter = ("reason", "task_name", "agent", ("replayed_at", admin.EmptyFieldListFilter))
    search_fields = ("task_id", "plan__id", "error")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in DeadLetter._meta.fields]
    actions = ("replay",)

    @admin.action(description="Replay the selected dead letters", permissions=("change",))
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        for letter in queryset:
            outcome = operator_dead_letter_replay(actor=request.user, request=request, dead_letter_id=letter.pk)
            self.message_user(request, f"{letter}: {outcome}", messages.INFO)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

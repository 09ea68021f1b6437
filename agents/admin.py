"""Operators' view of the dead-letter store, with replay."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from planning.models import DeadLetter

from .services import dead_letter_replay


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
            outcome = dead_letter_replay(dead_letter_id=letter.pk, actor=request.user)
            self.message_user(request, f"{letter}: {outcome}", messages.INFO)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

"""Operators' views of plans, agent runs, events and the catalog."""

from django.contrib import admin

from . import selectors
from .models import (
    AgentRun,
    Bakery,
    Cake,
    City,
    Feedback,
    Plan,
    PlanDispatch,
    PlanEvent,
    PlanRevision,
    Theme,
    Venue,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AgentRunInline(ReadOnlyInline):
    model = AgentRun
    fields = (
        "revision", "agent", "status", "reused_from", "attempts", "depends_on", "started_at", "finished_at",
        "duration_ms", "error",
    )  # fmt: skip


class PlanRevisionInline(ReadOnlyInline):
    model = PlanRevision
    fields = ("number", "source", "status", "superseded", "changes", "reran", "reused", "created_at", "finished_at")


class PlanDispatchInline(ReadOnlyInline):
    model = PlanDispatch
    fields = ("reason", "attempt", "state", "publish_attempts", "last_error", "created_at", "sent_at")
    show_change_link = False


class PlanEventInline(ReadOnlyInline):
    model = PlanEvent
    fields = ("seq", "type", "agent", "payload", "created_at")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "id", "owner", "status", "revision", "selection_arm", "short_request", "created_at", "finished_at", "version",
    )  # fmt: skip
    list_filter = ("status", "selection_arm", "created_at")
    search_fields = ("id", "request_text", "owner__username", "owner__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    readonly_fields = [field.name for field in Plan._meta.fields]
    inlines = (PlanRevisionInline, AgentRunInline, PlanDispatchInline, PlanEventInline)

    @admin.display(description="request")
    def short_request(self, plan: Plan) -> str:
        return plan.request_text[:80]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PlanRevision)
class PlanRevisionAdmin(admin.ModelAdmin):
    """Every revision of every plan: earlier ones stay readable."""

    list_display = ("plan", "number", "source", "status", "superseded", "created_at", "finished_at")
    list_filter = ("source", "status", "superseded")
    search_fields = ("plan__id",)
    readonly_fields = [field.name for field in PlanRevision._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AgentRun)
class AgentRunAdmin(admin.ModelAdmin):
    list_display = ("plan", "revision", "agent", "status", "attempts", "duration_ms", "started_at", "finished_at")
    list_filter = ("agent", "status")
    search_fields = ("plan__id", "error", "task_id")
    readonly_fields = [field.name for field in AgentRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


class RecordAdmin(admin.ModelAdmin):
    """A log the system writes: operators read it, nobody edits or adds to it."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PlanEvent)
class PlanEventAdmin(RecordAdmin):
    list_display = ("plan", "seq", "type", "agent", "created_at")
    list_filter = ("type", "agent")
    search_fields = ("plan__id", "type")


@admin.register(PlanDispatch)
class PlanDispatchAdmin(RecordAdmin):
    """The dispatch outbox: what was (or is still to be) handed to the broker, and why it waits."""

    list_display = ("plan", "reason", "attempt", "state", "publish_attempts", "created_at", "sent_at")
    list_filter = ("state", "reason")
    search_fields = ("plan__id", "last_error")


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ("name", "state", "slug", "cost_index")
    search_fields = ("name", "slug")


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "capacity", "base_price", "price_per_guest", "setting", "rating")
    list_filter = ("city", "setting")
    search_fields = ("name", "description")
    list_select_related = ("city",)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "decoration_base_cost", "cost_per_guest")
    search_fields = ("name", "slug", "description")


@admin.register(Bakery)
class BakeryAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "rating")
    list_filter = ("city",)
    search_fields = ("name",)


@admin.register(Cake)
class CakeAdmin(admin.ModelAdmin):
    list_display = ("name", "bakery", "flavor", "price_per_serving", "min_servings", "max_servings", "lead_time_days")
    list_filter = ("bakery__city", "flavor")
    search_fields = ("name", "bakery__name", "flavor")
    list_select_related = ("bakery",)


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    """Owners' feedback, with each selection arm's outcome figures above the list."""

    change_list_template = "admin/planning/feedback/change_list.html"
    list_display = ("plan", "author", "arm", "pick", "verdict", "rating", "created_at")
    list_filter = ("arm", "pick", "verdict", "rating")
    search_fields = ("plan__id", "author__username", "comment")
    list_select_related = ("author",)
    readonly_fields = [field.name for field in Feedback._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "arm_outcomes": selectors.arm_outcomes()}
        return super().changelist_view(request, extra_context=extra_context)

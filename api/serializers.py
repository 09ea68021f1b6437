"""Request and response shapes of the API."""

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer

from agents.analyzer import AnalyzerRules, load_rules
from planning.models import (
    AgentRun,
    AgentRunStatus,
    DeadLetter,
    Feedback,
    FeedbackPick,
    FeedbackVerdict,
    Plan,
    PlanRevision,
)
from planning.selectors import plan_admission

from .authentication import RoleRefreshToken
from .fields import PartyDateField, StrictBooleanField, StrictCharField, StrictFloatField, StrictIntegerField


def _vocabulary() -> AnalyzerRules:
    """The analyzer's rules: the one source of the party types, diets, age groups, settings and limits."""
    return load_rules(settings.ANALYZER_RULES_PATH)


_RULES = _vocabulary()
PARTY_TYPES = (*_RULES.party_type_names, _RULES.fallback_party_type)
DIETARY_NEEDS = _RULES.dietary_options
AGE_GROUPS = _RULES.ages.values
SETTINGS = _RULES.setting_values
GUEST_COUNT_RANGE = _RULES.guest_count_range
BUDGET_RANGE = _RULES.budget_range
MAX_TEXT_LENGTH = _RULES.max_text_length
FRIENDLY_AGENT_ERRORS = {
    AgentRunStatus.FAILED: "This part of the plan could not be prepared.",
    AgentRunStatus.TIMED_OUT: "This part of the plan took too long to prepare.",
    AgentRunStatus.RETRYING: "A temporary problem; this part of the plan is being tried again.",
}
FRIENDLY_PLAN_ERROR = "The plan could not be completed."


class StrictInputSerializer(serializers.Serializer):
    """An input body that refuses unknown fields and, with `min_fields`, an empty object."""

    min_fields = 0
    min_fields_message = "Give at least one field."
    # JSON-schema alternatives the body must match one of (cross-field rules, stated in the schema too).
    any_of: tuple[dict, ...] = ()

    def to_internal_value(self, data: Any) -> dict:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)

    def validate(self, attrs: dict) -> dict:
        if len(attrs) < self.min_fields:
            raise serializers.ValidationError(self.min_fields_message)
        return super().validate(attrs)


class StrictInputSerializerSchema(OpenApiSerializerExtension):
    target_class = StrictInputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction: str) -> dict:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        if self.target.min_fields:
            schema["minProperties"] = self.target.min_fields
        if self.target.any_of:
            schema["anyOf"] = list(self.target.any_of)
        return schema


class PlanFieldsSerializer(StrictInputSerializer):
    """The brief fields a client may give (on create) or change (on edit)."""

    party_type = serializers.ChoiceField(choices=PARTY_TYPES, required=False)
    guest_count = StrictIntegerField(required=False, min_value=GUEST_COUNT_RANGE[0], max_value=GUEST_COUNT_RANGE[1])
    date = PartyDateField(required=False)
    city = StrictCharField(required=False, max_length=100)
    budget = StrictIntegerField(required=False, min_value=BUDGET_RANGE[0], max_value=BUDGET_RANGE[1])
    dietary_needs = serializers.ListField(
        child=serializers.ChoiceField(choices=DIETARY_NEEDS), required=False, max_length=len(DIETARY_NEEDS)
    )
    theme_preferences = serializers.ListField(child=StrictCharField(max_length=50), required=False, max_length=10)
    age_group = serializers.ChoiceField(choices=AGE_GROUPS, required=False)
    setting = serializers.ChoiceField(choices=SETTINGS, required=False)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if "date" in attrs:
            attrs["date"] = attrs["date"].isoformat()
        return attrs


class PlanCreateInputSerializer(PlanFieldsSerializer):
    """A party described in words, in fields, or both (at least one of them)."""

    min_fields = 1
    min_fields_message = "Describe the party in `text` or give at least one field."

    text = StrictCharField(required=False, max_length=MAX_TEXT_LENGTH, trim_whitespace=True)


PICKS = ("venue", "theme", "cake")


class PinInputSerializer(StrictInputSerializer):
    """The option to keep, per category (its catalog id); null lifts the pin."""

    min_fields = 1
    min_fields_message = "Pin at least one of venue, theme or cake."

    venue = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    theme = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)
    cake = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1)


def _ids() -> serializers.ListField:
    return serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=2**31 - 1), required=False, min_length=1, max_length=50
    )


class ExcludeInputSerializer(StrictInputSerializer):
    """Options to rule out, per category (catalog ids); they add to those already excluded."""

    min_fields = 1
    min_fields_message = "Exclude options of at least one of venue, theme or cake."

    venue = _ids()
    theme = _ids()
    cake = _ids()


class PlanEditInputSerializer(PlanFieldsSerializer):
    """Brief fields to change, options to pin or exclude, and (instead of If-Match) the version edited."""

    min_fields = 1
    min_fields_message = "Change at least one field, pin or exclusion."
    # The version alone changes nothing: at least one of these (stated in the schema too).
    any_of = tuple(
        {"required": [name]}
        for name in (
            "party_type", "guest_count", "date", "city", "budget", "dietary_needs", "theme_preferences", "age_group",
            "setting", "pin", "exclude",
        )
    )  # fmt: skip

    pin = PinInputSerializer(required=False)
    exclude = ExcludeInputSerializer(required=False)
    version = StrictIntegerField(required=False, min_value=1, max_value=2**31 - 1, help_text="The version edited.")

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if not set(attrs) - {"version"}:
            raise serializers.ValidationError(self.min_fields_message)
        return attrs


class PlanChangeInputSerializer(StrictInputSerializer):
    """An optional body: the version acted on (instead of If-Match)."""

    version = StrictIntegerField(required=False, min_value=1, max_value=2**31 - 1, help_text="The version acted on.")


class PlanRetryInputSerializer(PlanChangeInputSerializer):
    """Which failed agents to run again (default: every one that failed or timed out)."""

    agents = serializers.ListField(
        child=serializers.ChoiceField(choices=(*PICKS, "budget")), required=False, min_length=1, max_length=4
    )


class RevisionOutcomeSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The new revision.")
    reran = serializers.ListField(child=serializers.CharField(), help_text="Agents dispatched for it.")
    reused = serializers.ListField(child=serializers.CharField(), help_text="Agents whose earlier result it kept.")
    waits_until = serializers.DateTimeField(
        allow_null=True, help_text="When the dispatch goes out (an agent's circuit breaker is open), or null."
    )


class TokenObtainInputSerializer(StrictInputSerializer, TokenObtainPairSerializer):
    """A username and a password (strings; nothing else)."""

    token_class = RoleRefreshToken

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = StrictCharField(write_only=True, max_length=150)
        self.fields["password"] = StrictCharField(write_only=True, trim_whitespace=False, max_length=4096)


class TokenRefreshInputSerializer(StrictInputSerializer, TokenRefreshSerializer):
    """A refresh token (a string; nothing else)."""

    token_class = RoleRefreshToken
    refresh = StrictCharField(max_length=4096)

    def validate(self, attrs: dict) -> dict:
        """simplejwt's checks; a refresh token of a deleted user is refused like an inactive one's (not a 500)."""
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist:
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account") from None


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Access token (JWT), sent as `Authorization: Bearer <token>`.")
    refresh = serializers.CharField(help_text="Refresh token: exchange it for a new pair, or revoke it (logout).")


def show_internals(serializer: serializers.Serializer) -> bool:
    return bool(serializer.context.get("internals"))


class AgentRunSerializer(serializers.ModelSerializer):
    error = serializers.SerializerMethodField(help_text="Friendly for the plan's owner; raw for support staff.")
    reused = serializers.BooleanField(read_only=True, help_text="Carried over from an earlier revision's run.")

    class Meta:
        model = AgentRun
        fields = (
            "agent",
            "revision",
            "reused",
            "status",
            "depends_on",
            "attempts",
            "started_at",
            "finished_at",
            "duration_ms",
            "result",
            "error",
        )

    @extend_schema_field(serializers.CharField())
    def get_error(self, run: AgentRun) -> str:
        if not run.error or show_internals(self):
            return run.error
        return FRIENDLY_AGENT_ERRORS.get(run.status, FRIENDLY_AGENT_ERRORS[AgentRunStatus.FAILED])


class PlanSummarySerializer(serializers.ModelSerializer):
    """A line of the plan list, from a plan or a `values()` row of its fields.

    It writes what the declared fields write (a test compares them) without running a DRF field per value:
    on a page of 20 plans those took 40 % of the request's CPU.
    """

    class Meta:
        model = Plan
        fields = ("id", "status", "request_text", "selection_arm", "created_at", "updated_at", "finished_at")

    def to_representation(self, instance) -> dict[str, Any]:
        row = instance if isinstance(instance, dict) else {name: getattr(instance, name) for name in self.Meta.fields}
        zone = timezone.get_current_timezone() if settings.USE_TZ else None
        return {
            "id": str(row["id"]),
            "status": row["status"],
            "request_text": row["request_text"],
            "selection_arm": row["selection_arm"],
            **{name: iso_datetime(row[name], zone=zone) for name in ("created_at", "updated_at", "finished_at")},
        }


def iso_datetime(value: datetime.datetime | None, *, zone: datetime.tzinfo | None) -> str | None:
    """A datetime as DRF's DateTimeField writes it by default: ISO 8601 in `zone`, "Z" for UTC."""
    if value is None:
        return None
    if zone is not None and timezone.is_aware(value):
        value = value.astimezone(zone)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class AdmissionSerializer(serializers.Serializer):
    """Where a plan stands for admission (each user runs a bounded number of plans at once)."""

    state = serializers.ChoiceField(choices=("waiting", "admitted"))
    admitted_at = serializers.DateTimeField(required=False, help_text="When it took a running slot (admitted).")
    position = serializers.IntegerField(
        required=False, help_text="Waiting: 1 = the next plan to run, in the fair order across all users."
    )
    user_position = serializers.IntegerField(required=False, help_text="Waiting: its turn in its owner's queue.")
    user_cap = serializers.IntegerField(allow_null=True, help_text="Running plans allowed per user (null: no cap).")
    user_running = serializers.IntegerField(required=False, help_text="Waiting: the owner's plans running now.")
    user_waiting = serializers.IntegerField(required=False, help_text="Waiting: the owner's plans waiting.")


class LimitsSerializer(serializers.Serializer):
    """The caller's running-plan cap and its use, and the bound on all users' running plans."""

    user_cap = serializers.IntegerField(allow_null=True, help_text="Running plans allowed per user (null: no cap).")
    user_running = serializers.IntegerField()
    user_waiting = serializers.IntegerField(help_text="The caller's plans waiting for a running slot.")
    total_cap = serializers.IntegerField(allow_null=True, help_text="Running plans allowed in all (null: no bound).")
    total_running = serializers.IntegerField()


class PlanDetailSerializer(serializers.ModelSerializer):
    agent_runs = AgentRunSerializer(
        source="current_runs", many=True, read_only=True, help_text="The current revision's agent runs."
    )
    error = serializers.SerializerMethodField(help_text="Friendly for the plan's owner; raw for support staff.")
    admission = serializers.SerializerMethodField(help_text="Null for a plan that ended before it was admitted.")

    class Meta:
        model = Plan
        fields = (
            "id", "status", "version", "revision", "request_text", "request_fields", "constraints", "brief",
            "agent_runs", "result",
            "error", "selection_arm", "event_seq", "created_at", "updated_at", "dispatched_at", "finished_at",
            "admission",
        )  # fmt: skip

    @extend_schema_field(serializers.CharField())
    def get_error(self, plan: Plan) -> str:
        if not plan.error or show_internals(self):
            return plan.error
        return FRIENDLY_PLAN_ERROR

    @extend_schema_field(AdmissionSerializer(allow_null=True))
    def get_admission(self, plan: Plan) -> dict[str, Any] | None:
        admission = plan_admission(plan=plan)
        return AdmissionSerializer(admission).data if admission is not None else None

    def to_representation(self, plan: Plan) -> dict[str, Any]:
        data = super().to_representation(plan)
        result = data.get("result")
        if isinstance(result, dict) and result.get("failures") and not show_internals(self):
            friendly = FRIENDLY_AGENT_ERRORS[AgentRunStatus.FAILED]
            data["result"] = {**result, "failures": dict.fromkeys(result["failures"], friendly)}
        return data


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text='Machine-readable, e.g. "invalid", "not_found", "throttled".')
    message = serializers.CharField()
    fields = serializers.DictField(
        required=False, child=serializers.JSONField(), help_text="Per-field messages (validation errors only)."
    )


class ErrorSerializer(serializers.Serializer):
    """The one error shape of every 4xx/5xx answer."""

    error = ErrorDetailSerializer()


class LogoutInputSerializer(StrictInputSerializer):
    refresh = StrictCharField(max_length=4096, help_text="The refresh token to revoke.")


class FaultSerializer(StrictInputSerializer):
    error_rate = StrictFloatField(min_value=0, max_value=1, required=False, default=0.0)
    latency_ms = StrictIntegerField(min_value=0, max_value=60_000, required=False, default=0)
    error = serializers.ChoiceField(choices=("transient", "permanent"), required=False, default="transient")
    ignore_soft_limit = StrictBooleanField(
        required=False, default=False, help_text="The latency is a stuck call that only the hard time limit ends."
    )


class BreakerSerializer(serializers.Serializer):
    name = serializers.CharField()
    state = serializers.CharField()
    fail_counter = serializers.IntegerField()


class PlanChangeOutputSerializer(PlanDetailSerializer):
    """A plan after an edit or a retry, with the revision it started."""

    change = RevisionOutcomeSerializer(read_only=True, help_text="The revision the change started.")

    class Meta(PlanDetailSerializer.Meta):
        fields = (*PlanDetailSerializer.Meta.fields, "change")


class PlanRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanRevision
        fields = ("number", "source", "status", "superseded", "changes", "reran", "reused", "created_at", "finished_at")


class PlanRevisionDetailSerializer(PlanRevisionSerializer):
    runs = AgentRunSerializer(many=True, read_only=True, help_text="This revision's agent runs.")

    class Meta(PlanRevisionSerializer.Meta):
        fields = (*PlanRevisionSerializer.Meta.fields, "request_fields", "constraints", "brief", "result", "runs")


def plan_detail_data(plan: Plan, *, internals: bool) -> dict[str, Any]:
    """A plan as its reader may see it."""
    return PlanDetailSerializer(plan, context={"internals": internals}).data


class PlanEventSerializer(serializers.Serializer):
    """One event in the versioned wire format (docs/events.md)."""

    v = serializers.IntegerField()
    plan_id = serializers.UUIDField()
    seq = serializers.IntegerField()
    revision = serializers.IntegerField(help_text="The plan's revision the event belongs to.")
    type = serializers.CharField()
    agent = serializers.CharField(allow_blank=True)
    payload = serializers.JSONField()
    at = serializers.DateTimeField()


class PlanEventPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = PlanEventSerializer(many=True)


class DeadLetterSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadLetter
        fields = (
            "id", "task_name", "task_id", "plan", "agent", "args", "kwargs", "reason", "error", "traceback",
            "attempts", "created_at", "replayed_at", "replayed_by", "replay_outcome",
        )  # fmt: skip


class DeadLetterReplayOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    outcome = serializers.CharField()


class FeedbackInputSerializer(StrictInputSerializer):
    """The owner's word on a plan: accept or reject one pick, rate the plan 1-5, or both."""

    min_fields = 1
    min_fields_message = "Give a verdict on a pick, a rating, or both."
    # A verdict with the pick it is about (and perhaps a rating), or a rating alone.
    any_of = (
        {"required": ["pick", "verdict"]},
        {"required": ["rating"], "not": {"anyOf": [{"required": ["pick"]}, {"required": ["verdict"]}]}},
    )

    pick = serializers.ChoiceField(choices=FeedbackPick.choices, required=False)
    verdict = serializers.ChoiceField(choices=FeedbackVerdict.choices, required=False)
    rating = StrictIntegerField(required=False, min_value=1, max_value=5)
    comment = StrictCharField(required=False, allow_blank=True, max_length=1000)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if "verdict" not in attrs and "rating" not in attrs:
            raise serializers.ValidationError("Give a verdict on a pick, a rating, or both.")
        if ("pick" in attrs) != ("verdict" in attrs):
            raise serializers.ValidationError("A verdict needs the pick it is about, and a pick needs a verdict.")
        return attrs


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ("id", "plan", "arm", "pick", "verdict", "rating", "comment", "created_at")

"""Request and response shapes of the API."""

import datetime

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from agents.analyzer import AnalyzerRules, load_rules
from planning.models import AgentRun, DeadLetter, Feedback, FeedbackPick, FeedbackVerdict, Plan


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


class PlanCreateInputSerializer(serializers.Serializer):
    """A party described in words, in fields, or both."""

    text = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT_LENGTH, trim_whitespace=True)
    party_type = serializers.ChoiceField(choices=PARTY_TYPES, required=False)
    guest_count = serializers.IntegerField(
        required=False, min_value=GUEST_COUNT_RANGE[0], max_value=GUEST_COUNT_RANGE[1]
    )
    date = serializers.DateField(required=False)
    city = serializers.CharField(required=False, max_length=100)
    budget = serializers.IntegerField(required=False, min_value=BUDGET_RANGE[0], max_value=BUDGET_RANGE[1])
    dietary_needs = serializers.ListField(
        child=serializers.ChoiceField(choices=DIETARY_NEEDS), required=False, max_length=len(DIETARY_NEEDS)
    )
    theme_preferences = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=10)
    age_group = serializers.ChoiceField(choices=AGE_GROUPS, required=False)
    setting = serializers.ChoiceField(choices=SETTINGS, required=False)

    def validate_date(self, value: datetime.date) -> datetime.date:
        today = timezone.localdate()
        if value < today:
            raise serializers.ValidationError("The date is in the past.")
        if value > today + datetime.timedelta(days=3 * 365):
            raise serializers.ValidationError("The date is more than three years away.")
        return value

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("text") and len(attrs) == ("text" in attrs):
            raise serializers.ValidationError("Describe the party in `text` or give at least one field.")
        if "date" in attrs:
            attrs["date"] = attrs["date"].isoformat()
        return attrs


class AgentRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgentRun
        fields = (
            "agent",
            "status",
            "depends_on",
            "attempts",
            "started_at",
            "finished_at",
            "duration_ms",
            "result",
            "error",
        )


class PlanSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ("id", "status", "request_text", "selection_arm", "created_at", "updated_at", "finished_at")


class PlanDetailSerializer(serializers.ModelSerializer):
    agent_runs = AgentRunSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = (
            "id", "status", "version", "request_text", "request_fields", "brief", "agent_runs", "result",
            "error", "selection_arm", "event_seq", "created_at", "updated_at", "dispatched_at", "finished_at",
        )  # fmt: skip


class PlanEventSerializer(serializers.Serializer):
    """One event in the versioned wire format (docs/events.md)."""

    v = serializers.IntegerField()
    plan_id = serializers.UUIDField()
    seq = serializers.IntegerField()
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


class FeedbackInputSerializer(serializers.Serializer):
    """The owner's word on a plan: accept or reject one pick, rate the plan 1-5, or both."""

    pick = serializers.ChoiceField(choices=FeedbackPick.choices, required=False)
    verdict = serializers.ChoiceField(choices=FeedbackVerdict.choices, required=False)
    rating = serializers.IntegerField(required=False, min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000)

    def validate(self, attrs: dict) -> dict:
        if "verdict" not in attrs and "rating" not in attrs:
            raise serializers.ValidationError("Give a verdict on a pick, a rating, or both.")
        if ("pick" in attrs) != ("verdict" in attrs):
            raise serializers.ValidationError("A verdict needs the pick it is about, and a pick needs a verdict.")
        return attrs


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ("id", "plan", "arm", "pick", "verdict", "rating", "comment", "created_at")

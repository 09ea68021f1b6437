"""Reads for the event streams, the history API and the relay."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import F, IntegerField, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from planning.models import Plan, PlanEvent

from .schema import event_envelope

ENVELOPE_FIELDS = ("plan_id", "seq", "revision", "type", "agent", "payload", "created_at")


def plan_for_viewer(*, user, plan_id: UUID) -> Plan:
    """A plan its owner (or a staff member) may watch; raises Plan.DoesNotExist for anyone else."""
    plans = Plan.objects.all() if user.is_staff else Plan.objects.filter(owner=user)
    return plans.only("id", "status", "event_seq", "owner_id").get(pk=plan_id)


def plan_event_envelopes(*, plan_id: UUID | str, after: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    """Up to `limit` of a plan's committed events after `after`, in order, in the wire format."""
    rows = PlanEvent.objects.filter(plan_id=plan_id, seq__gt=after).order_by("seq").values(*ENVELOPE_FIELDS)[:limit]
    return [event_envelope(**row) for row in rows]


def plan_heads(*, plan_ids: list[UUID]) -> dict[UUID, tuple[int, bool]]:
    """Each plan's last committed event number and whether it has ended."""
    rows = Plan.objects.filter(pk__in=plan_ids).values_list("id", "event_seq", "status")
    return {plan_id: (seq, status in Plan.TERMINAL) for plan_id, seq, status in rows}


def plans_to_relay(*, lookback: timedelta, limit: int, since: datetime | None = None) -> list[tuple[UUID, int]]:
    """Plans with committed events the relay has not published yet, as (plan id, relayed seq)."""
    return list(plans_to_relay_query(lookback=lookback, since=since)[:limit])


def plans_to_relay_query(*, lookback: timedelta, since: datetime | None = None) -> QuerySet:
    """The relay's candidates, oldest change first. Only plans changed within `lookback`, and since `since`
    when given, are read (every event updates its plan's `updated_at`, which the `plan_updated` index
    orders), so a step reads the plans of that window however long the history grows."""
    relayed = Coalesce(F("relay_cursor__seq"), Value(0), output_field=IntegerField())
    oldest = timezone.now() - lookback
    return (
        Plan.objects.filter(updated_at__gte=max(oldest, since) if since else oldest)
        .annotate(relayed=relayed)
        .filter(event_seq__gt=F("relayed"))
        .order_by("updated_at")
        .values_list("id", "relayed")
    )

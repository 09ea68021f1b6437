"""Recommenders: small functions that read the assembled plan and add advice. A strategy lists its own."""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .analyzer import Brief


@dataclass
class PlanDraft:
    """The plan while it is being assembled; recommenders read it and add advice."""

    brief: Brief
    picks: dict[str, dict[str, Any] | None]
    alternatives: dict[str, list[dict[str, Any]]]
    budget: dict[str, Any] | None
    costs: dict[str, Any]
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    selection: dict[str, Any] = field(default_factory=dict)


Recommender = Callable[[PlanDraft], Sequence[str]]


def money(value: float) -> str:
    """$1,234 or $1,234.50."""
    return f"${value:,.0f}" if float(value).is_integer() else f"${value:,.2f}"


def recommend_budget_fit(draft: PlanDraft) -> list[str]:
    """Over budget: how much, and what would make the plan fit; well under: what to spend the rest on.

    The catering and contingency reserve counts as spent: the picks must leave room for it.
    """
    budget, total, reserved = draft.brief.budget, draft.costs["total"], draft.costs["reserved"]
    if not budget or total == 0:
        return []
    left = budget - total - reserved
    if left < 0:
        set_aside = f" with {money(reserved)} set aside for catering and a reserve" if reserved else ""
        advice = [f"The picks cost {money(-left)} more than the budget of {money(budget)}{set_aside}."]
        return advice + list(draft.selection.get("remedies", []))
    if left >= 0.1 * budget:
        return [f"{money(left)} is left after the picks, catering and a reserve: room for entertainment or photos."]
    return []


def recommend_dietary(draft: PlanDraft) -> list[str]:
    """Dietary needs: make sure the cake covers them and is kept apart."""
    cake = draft.picks.get("cake")
    needs = [need.replace("_", "-") for need in draft.brief.dietary_needs]
    if not needs or not cake:
        return []
    return [f"Ask {cake['bakery']} to label the cake as {', '.join(needs)} and to box it separately."]


def recommend_cake_order_date(draft: PlanDraft) -> list[str]:
    """Tell when the cake must be ordered, given the bakery's lead time."""
    cake, date = draft.picks.get("cake"), draft.brief.date
    if not cake or not date:
        return []
    order_by = date - datetime.timedelta(days=int(cake.get("lead_time_days", 0)))
    return [f"Order the cake by {order_by.isoformat()} ({cake.get('lead_time_days')} days' lead time)."]


def recommend_outdoor_backup(draft: PlanDraft) -> list[str]:
    """An outdoor venue needs a rain plan."""
    venue = draft.picks.get("venue")
    if venue and venue.get("setting") == "outdoor":
        return ["The venue is outdoors: book a tent or an indoor backup in case of rain."]
    return []


def recommend_supervision(draft: PlanDraft) -> list[str]:
    """Kids' parties need enough adults."""
    if draft.brief.age_group != "kids":
        return []
    adults = max(2, -(-draft.brief.guest_count // 5))
    return [f"Plan for at least {adults} supervising adults (one per five children)."]


def recommend_date(draft: PlanDraft) -> list[str]:
    """Without a date nothing can be booked."""
    return [] if draft.brief.date else ["Set a date so the venue and bakery can confirm availability."]


DEFAULT_RECOMMENDERS: tuple[Recommender, ...] = (
    recommend_budget_fit,
    recommend_dietary,
    recommend_cake_order_date,
    recommend_outdoor_backup,
    recommend_supervision,
    recommend_date,
)

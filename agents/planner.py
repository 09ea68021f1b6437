"""FinalPlanner: aggregates the agents' results into one plan, complete or clearly partial."""

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .analyzer import Brief
from .costs import PICK_CATEGORIES, reserved_share

CHOICE_AGENTS = PICK_CATEGORIES


@dataclass(frozen=True)
class AgentOutcome:
    """What one agent run ended with, as the planner sees it."""

    status: str
    result: Mapping[str, Any] | None = None
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded" and self.result is not None


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


Recommender = Callable[[PlanDraft], Sequence[str]]


PARTY_LABELS = {"general": "Party", "corporate": "Corporate event", "reunion": "Reunion", "wedding": "Wedding"}


def party_label(party_type: str) -> str:
    """How a summary names the party: "Birthday party", "Baby shower", "Wedding"."""
    if party_type in PARTY_LABELS:
        return PARTY_LABELS[party_type]
    words = party_type.replace("_", " ").capitalize()
    return words if words.endswith(("shower", "anniversary")) else f"{words} party"


def money(value: float) -> str:
    """$1,234 or $1,234.50."""
    return f"${value:,.0f}" if float(value).is_integer() else f"${value:,.2f}"


def recommend_budget_fit(draft: PlanDraft) -> list[str]:
    """Over budget: name the cheaper alternatives; well under: suggest what to spend the rest on.

    The budget agent's catering and contingency shares count as spent: the picks must leave room for them.
    """
    budget, total, reserved = draft.brief.budget, draft.costs["total"], draft.costs["reserved"]
    if not budget or total == 0:
        return []
    left = budget - total - reserved
    if left < 0:
        set_aside = f" with {money(reserved)} set aside for catering and a reserve" if reserved else ""
        advice = [f"The picks cost {money(-left)} more than the budget of {money(budget)}{set_aside}."]
        for category in CHOICE_AGENTS:
            pick, options = draft.picks.get(category), draft.alternatives.get(category, [])
            cheaper = [o for o in options if pick and o["cost"] < pick["cost"]]
            if cheaper:
                best = min(cheaper, key=lambda option: option["cost"])
                advice.append(f"Switch {category} to {best['name']} to save {money(pick['cost'] - best['cost'])}.")
        return advice
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


class FinalPlanner:
    """Builds the final plan from the brief and every agent's outcome."""

    def __init__(self, recommenders: Sequence[Recommender] = DEFAULT_RECOMMENDERS) -> None:
        self.recommenders = tuple(recommenders)

    def build(self, *, brief: Brief, outcomes: Mapping[str, AgentOutcome]) -> dict[str, Any]:
        """The plan as JSON-ready data; `status` is complete, partial (something missing) or failed."""
        failures = {
            agent: outcome.error or outcome.status for agent, outcome in outcomes.items() if not outcome.succeeded
        }
        draft = self._draft(brief, outcomes)
        for agent in failures:
            # Warnings are read by the plan's owner; raw errors stay in `failures`, shown to support staff only.
            draft.warnings.append(f"The {agent} part of the plan could not be prepared and is missing.")
        for agent in failures:
            if agent not in draft.missing:
                draft.missing.append(agent)
        recommendations = [advice for recommender in self.recommenders for advice in recommender(draft)]
        succeeded = [agent for agent, outcome in outcomes.items() if outcome.succeeded]
        if not succeeded:
            status = "failed"
        elif draft.missing:
            status = "partial"
        else:
            status = "complete"
        return {
            "status": status,
            "summary": self._summary(brief, status, draft.missing),
            "venue": draft.picks.get("venue"),
            "theme": draft.picks.get("theme"),
            "cake": draft.picks.get("cake"),
            "alternatives": draft.alternatives,
            "budget": draft.budget,
            "costs": draft.costs,
            "missing": sorted(draft.missing),
            "failures": failures,
            "warnings": draft.warnings,
            "recommendations": recommendations,
        }

    def _draft(self, brief: Brief, outcomes: Mapping[str, AgentOutcome]) -> PlanDraft:
        picks: dict[str, dict[str, Any] | None] = {}
        alternatives: dict[str, list[dict[str, Any]]] = {}
        missing: list[str] = []
        warnings: list[str] = []
        for category in CHOICE_AGENTS:
            outcome = outcomes.get(category)
            if outcome is None:
                continue
            choices = list((outcome.result or {}).get("choices", [])) if outcome.succeeded else []
            picks[category] = choices[0] if choices else None
            alternatives[category] = choices[1:]
            if outcome.succeeded and not choices:
                missing.append(category)
                warnings.append((outcome.result or {}).get("summary") or f"No {category} fits the brief.")
        budget_outcome = outcomes.get("budget")
        budget = dict(budget_outcome.result) if budget_outcome and budget_outcome.succeeded else None
        if budget:
            warnings.extend(budget.get("warnings", []))
        costs = {category: round(float(pick["cost"]), 2) for category, pick in picks.items() if pick}
        total = round(sum(costs.values()), 2)
        share = reserved_share(party_type=brief.party_type, age_group=brief.age_group)
        reserved = round((brief.budget or 0) * share, 2)
        costs.update(total=total, reserved=reserved, budget=brief.budget)
        if brief.budget:
            remaining = round(brief.budget - total - reserved, 2)
            costs.update(remaining=remaining, within_budget=remaining >= 0)
        return PlanDraft(brief, picks, alternatives, budget, costs, missing, warnings)

    @staticmethod
    def _summary(brief: Brief, status: str, missing: Sequence[str]) -> str:
        where = f" in {brief.city.replace('-', ' ').title()}" if brief.city else ""
        when = f" on {brief.date.isoformat()}" if brief.date else ""
        text = f"{party_label(brief.party_type)} for {brief.guest_count} guests{where}{when}."
        if status == "partial":
            text += f" Partial plan: missing {', '.join(sorted(missing))}."
        elif status == "failed":
            text += " No agent could produce a result."
        return text

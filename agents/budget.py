"""BudgetAgent: splits the budget across categories and checks that the catalog can meet it."""

from typing import Any

from .base import Agent, AgentContext

DEFAULT_SHARES = {"venue": 0.40, "theme": 0.15, "cake": 0.10, "catering": 0.25, "contingency": 0.10}
SHARES_BY_PARTY_TYPE = {
    "wedding": {"venue": 0.45, "theme": 0.12, "cake": 0.08, "catering": 0.28, "contingency": 0.07},
    "corporate": {"venue": 0.45, "theme": 0.08, "cake": 0.05, "catering": 0.32, "contingency": 0.10},
    "baby_shower": {"venue": 0.30, "theme": 0.20, "cake": 0.15, "catering": 0.25, "contingency": 0.10},
}
KIDS_SHARES = {"venue": 0.35, "theme": 0.20, "cake": 0.12, "catering": 0.23, "contingency": 0.10}


def budget_shares(*, party_type: str, age_group: str) -> dict[str, float]:
    """The fraction of the budget each category should take."""
    if age_group == "kids" and party_type in ("birthday", "general"):
        return KIDS_SHARES
    return SHARES_BY_PARTY_TYPE.get(party_type, DEFAULT_SHARES)


def category_target(context: AgentContext, category: str) -> float | None:
    """What one category should cost, in USD, given the brief's budget (None without a budget)."""
    budget = context.brief.budget
    if not budget:
        return None
    return budget * budget_shares(party_type=context.brief.party_type, age_group=context.brief.age_group)[category]


def allowance_fit(
    *, cost: float, target: float | None, category: str, bonus: float, penalty: float, cap: float
) -> tuple[float, str | None]:
    """Score and reason for a cost against its category's share of the budget.

    Within the allowance earns `bonus`; over it costs `penalty` per 100 % overshoot, at most `cap`.
    """
    if target is None:
        return 0.0, None
    if cost <= target:
        return bonus, f"within the ${target:,.0f} {category} allowance"
    return -min(cap, penalty * (cost - target) / target), f"over the ${target:,.0f} {category} allowance"


class BudgetAgent(Agent):
    name = "budget"

    def run(self, context: AgentContext) -> dict[str, Any]:
        brief = context.brief
        shares = budget_shares(party_type=brief.party_type, age_group=brief.age_group)
        minimum, problem = self._minimum_cost(context)
        warnings = [problem] if problem else []
        total, estimated = brief.budget, False
        if not total and minimum is not None:
            total, estimated = round(minimum / (shares["venue"] + shares["theme"] + shares["cake"]), -1), True
            warnings.append(
                f"No budget given; about ${total:,.0f} covers the cheapest plan with catering and a reserve."
            )
        allocation = {category: round(total * share, 2) for category, share in shares.items()} if total else {}
        feasible = minimum is not None and (total is None or minimum <= total)
        if minimum is not None and not feasible:
            warnings.append(
                f"The budget of ${total:,.0f} is below the cheapest possible venue, theme and cake "
                f"(${minimum:,.2f}); raise it or invite fewer guests."
            )
        summary = (
            f"${total:,.0f} split across {len(allocation)} categories; cheapest workable plan ${minimum:,.2f}."
            if total and minimum is not None
            else "The budget could not be assessed against the catalog."
        )
        return {
            "summary": summary,
            "total": total,
            "estimated": estimated,
            "allocation": allocation,
            "shares": shares,
            "minimum_cost": minimum,
            "feasible": feasible,
            "warnings": warnings,
        }

    def _minimum_cost(self, context: AgentContext) -> tuple[float | None, str | None]:
        """The cheapest theme, venue and cake (those the plan needs) for this brief, or None and why not."""
        brief = context.brief
        guests, needs = brief.guest_count, set(brief.dietary_needs)
        if not brief.city and {"venue", "cake"} & set(brief.agents):
            return None, "No known city, so venue and cake prices could not be checked against the budget."
        costs: dict[str, float | None] = {}
        themes = [t for t in self.provider.themes() if brief.party_type in t.party_types or "general" in t.party_types]
        costs["theme"] = min((theme.cost_for(guests) for theme in themes), default=None)
        if "venue" in brief.agents:
            venues = self.provider.venues(city=brief.city, guests=guests)
            costs["venue"] = min((venue.cost_for(guests) for venue in venues), default=None)
        if "cake" in brief.agents:
            cakes = [c for c in self.provider.cakes(city=brief.city, servings=guests) if needs <= set(c.dietary)]
            costs["cake"] = min((float(cake.price_per_serving) * guests for cake in cakes), default=None)
        unavailable = sorted(category for category, cost in costs.items() if cost is None)
        if unavailable:
            return None, f"The catalog has no {' or '.join(unavailable)} for this brief, so the budget is unchecked."
        return round(sum(costs.values()), 2), None

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
        minimum = self._minimum_cost(context)
        warnings: list[str] = []
        if brief.budget:
            total, estimated = brief.budget, False
        else:
            total = round((minimum or 0) / (shares["venue"] + shares["theme"] + shares["cake"]), -1) or None
            estimated = True
            if total:
                warnings.append(f"No budget given; about ${total:,.0f} would cover a typical plan.")
        allocation = {category: round(total * share, 2) for category, share in shares.items()} if total else {}
        feasible = minimum is not None and (total is None or minimum <= total)
        if minimum is not None and not feasible:
            warnings.append(
                f"The budget of ${total:,.0f} is below the cheapest possible venue, theme and cake "
                f"(${minimum:,.2f}); raise it or invite fewer guests."
            )
        if minimum is None:
            warnings.append("The catalog has no complete venue, theme and cake combination for this brief.")
        summary = (
            f"${total:,.0f} split across {len(allocation)} categories; cheapest workable plan ${minimum:,.2f}."
            if total and minimum is not None
            else "Budget could not be fully assessed."
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

    def _minimum_cost(self, context: AgentContext) -> float | None:
        """The cheapest venue + theme + cake the catalog offers for this brief (None when one is missing)."""
        brief = context.brief
        guests = brief.guest_count
        parts: list[float] = []
        themes = [t for t in self.provider.themes() if brief.party_type in t.party_types or "general" in t.party_types]
        if themes:
            parts.append(min(theme.cost_for(guests) for theme in themes))
        if brief.city:
            needs = set(brief.dietary_needs)
            if "venue" in brief.agents:
                venues = self.provider.venues(city=brief.city, guests=guests)
                parts.append(min((venue.cost_for(guests) for venue in venues), default=float("nan")))
            if "cake" in brief.agents:
                cakes = [c for c in self.provider.cakes(city=brief.city, servings=guests) if needs <= set(c.dietary)]
                parts.append(min((float(c.price_per_serving) * guests for c in cakes), default=float("nan")))
        if not parts or any(part != part for part in parts):
            return None
        return round(sum(parts), 2)

"""BudgetAgent: splits the budget across categories and checks that the catalog can meet it."""

from typing import Any

from .base import Agent, AgentContext
from .cake import cake_fits, days_until
from .costs import budget_shares, cake_cost, reserved_share
from .theme import theme_fits


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
        for_picks = (
            total * (1 - reserved_share(party_type=brief.party_type, age_group=brief.age_group)) if total else None
        )
        feasible = minimum is not None and (for_picks is None or minimum <= for_picks)
        if minimum is not None and not feasible:
            warnings.append(
                f"After catering and a reserve, the budget of ${total:,.0f} leaves ${for_picks:,.0f} for the venue, "
                f"theme and cake, less than the cheapest possible (${minimum:,.2f}); raise it or invite fewer guests."
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
        guests = brief.guest_count
        if not brief.city and {"venue", "cake"} & set(brief.agents):
            return None, "No known city, so venue and cake prices could not be checked against the budget."
        costs: dict[str, float | None] = {}
        if "theme" in brief.agents:
            themes = [theme for theme in self.provider.themes() if theme_fits(theme, brief)]
            costs["theme"] = min((theme.cost_for(guests) for theme in themes), default=None)
        if "venue" in brief.agents:
            venues = self.provider.venues(city=brief.city, guests=guests)
            costs["venue"] = min((venue.cost_for(guests) for venue in venues), default=None)
        if "cake" in brief.agents:
            days_left = days_until(brief.date)
            cakes = self.provider.cakes(city=brief.city, servings=guests)
            fitting = [cake for cake in cakes if cake_fits(cake, needs=set(brief.dietary_needs), days_left=days_left)]
            costs["cake"] = min((cake_cost(cake, guests) for cake in fitting), default=None)
        unavailable = sorted(category for category, cost in costs.items() if cost is None)
        if unavailable:
            return None, f"The catalog has no {' or '.join(unavailable)} for this brief, so the budget is unchecked."
        return round(sum(costs.values()), 2), None

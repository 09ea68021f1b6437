"""BudgetAgent: the budget's split, the cheapest workable option of every category, and whether they fit.

Its verdict and its estimate come from one number, the cheapest workable plan (the cheapest option of each
category that meets every hard constraint): with a budget, the plan is feasible when that fits after the
catering and contingency reserve; without one, the estimate is the smallest budget that covers it, so it is
feasible by construction. When nothing fits it says what would: a bigger budget, fewer guests, a cheaper
city, or leaving out a part. The cheapest options go to the selector too, as a floor under the agents' lists.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from planning.catalog_cache import ThemeRow

from .analyzer import Brief
from .base import Agent, AgentContext
from .cake import cake_options
from .constraints import options_constrained
from .costs import PICK_CATEGORIES, budget_shares, reserved_share
from .recommenders import money
from .selection import CENT, budget_needed
from .theme import theme_options, theme_priced
from .venue import venue_options

OPTIONAL_PARTS = {"theme": "the decorations theme", "cake": "the cake", "venue": "the venue (hold it at home)"}
MAX_CITY_SUGGESTIONS = 3


class BudgetAgent(Agent):
    name = "budget"
    reads = (
        "party_type", "guest_count", "date", "city", "budget", "dietary_needs", "theme_preferences", "age_group",
        "setting", "agents", "constraints",
    )  # fmt: skip
    constraints: Mapping[str, Any] = {}

    def run(self, context: AgentContext) -> dict[str, Any]:
        brief = context.brief
        self.constraints = context.constraints
        shares = budget_shares(party_type=brief.party_type, age_group=brief.age_group)
        categories = [category for category in PICK_CATEGORIES if category in brief.agents]
        if not brief.city and {"venue", "cake"} & set(categories):
            return self._unchecked(
                brief, shares, "No known city, so venue and cake prices could not be checked against the budget."
            )
        themes = self.provider.themes() if "theme" in categories else []
        cheapest, problems = self._cheapest(brief, categories, themes)
        if problems:
            return self._unchecked(
                brief, shares, f"The catalog has no {' or '.join(problems)} for this brief, so the budget is unchecked."
            )
        minimum = round(sum(option["cost"] for option in cheapest.values()), 2)
        needed = budget_needed(cost=minimum, brief=brief)
        warnings: list[str] = []
        remedies: list[str] = []
        if brief.budget:
            total, estimated = float(brief.budget), False
            allowance = total * (1 - reserved_share(party_type=brief.party_type, age_group=brief.age_group))
            feasible = minimum <= allowance + CENT
            if not feasible:
                warnings.append(
                    f"Infeasible: after catering and a reserve, the budget of {money(total)} leaves "
                    f"{money(round(allowance, 2))} for the {', '.join(categories)}, less than the cheapest workable "
                    f"choice ({money(minimum)}); it is {money(needed - total)} short."
                )
                remedies = self._remedies(brief, categories, themes, cheapest, allowance, needed)
        else:
            total, estimated, feasible = float(-(-needed // 10) * 10), True, True
            warnings.append(
                f"No budget given; about {money(total)} covers the cheapest workable plan with catering and a reserve."
            )
        return {
            "summary": f"{money(total)} split across {len(shares)} categories; cheapest workable plan "
            f"{money(minimum)}.",
            "total": total,
            "estimated": estimated,
            "allocation": {category: round(total * share, 2) for category, share in shares.items()},
            "shares": shares,
            "minimum_cost": minimum,
            "needed_budget": needed,
            "feasible": feasible,
            "cheapest": cheapest,
            "warnings": warnings,
            "remedies": remedies,
        }

    @staticmethod
    def _unchecked(brief: Brief, shares: dict[str, float], reason: str) -> dict[str, Any]:
        total = float(brief.budget) if brief.budget else None
        allocation = {category: round(total * share, 2) for category, share in shares.items()} if total else {}
        return {
            "summary": "The budget could not be assessed against the catalog.",
            "total": total,
            "estimated": False,
            "allocation": allocation,
            "shares": shares,
            "minimum_cost": None,
            "needed_budget": None,
            "feasible": None,
            "cheapest": {},
            "warnings": [reason],
            "remedies": [],
        }

    def _cheapest(
        self, brief: Brief, categories: Sequence[str], themes: list[ThemeRow]
    ) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """The cheapest workable option of each category, and the categories that have none."""
        found: dict[str, list[dict[str, Any]]] = {}
        if "theme" in categories:
            found["theme"] = [theme_priced(option, brief.guest_count) for option in theme_options(themes, brief)]
        if "venue" in categories:
            found["venue"] = venue_options(self.provider.venues(city=brief.city, guests=brief.guest_count), brief)[0]
        if "cake" in categories:
            found["cake"] = cake_options(self.provider.cakes(city=brief.city, servings=1), brief)[0]
        found = {
            category: options_constrained(category, options, self.constraints) for category, options in found.items()
        }
        cheapest = {
            category: min(options, key=lambda option: (option["cost"], option["name"]))
            for category, options in found.items()
            if options
        }
        return cheapest, sorted(category for category, options in found.items() if not options)

    def _minimum(self, brief: Brief, categories: Sequence[str], themes: list[ThemeRow]) -> float | None:
        cheapest, problems = self._cheapest(brief, categories, themes)
        return None if problems else round(sum(option["cost"] for option in cheapest.values()), 2)

    def _remedies(
        self,
        brief: Brief,
        categories: Sequence[str],
        themes: list[ThemeRow],
        cheapest: dict[str, dict[str, Any]],
        allowance: float,
        needed: float,
    ) -> list[str]:
        """What would make the plan fit, each checked against the catalog."""
        remedies = [f"Raise the budget to at least {money(needed)}."]
        fewer = self._most_guests(brief, categories, themes, allowance)
        if fewer:
            remedies.append(f"Invite at most {fewer} guests: then the cheapest plan fits the budget.")
        if brief.city:
            cities = []
            for city in self.provider.cities():
                if city == brief.city:
                    continue
                there = self._minimum(dataclasses.replace(brief, city=city), categories, themes)
                if there is not None and there <= allowance + CENT:
                    cities.append((there, city))
            if cities:
                names = [city.replace("-", " ").title() for _, city in sorted(cities)[:MAX_CITY_SUGGESTIONS]]
                remedies.append(f"Hold it in a cheaper city such as {', '.join(names)}: the cheapest plan fits there.")
        for category in categories:
            rest = sum(option["cost"] for name, option in cheapest.items() if name != category)
            if len(categories) > 1 and rest <= allowance + CENT:
                remedies.append(f"Leave out {OPTIONAL_PARTS[category]}: the rest costs {money(round(rest, 2))}.")
        return remedies

    def _most_guests(
        self, brief: Brief, categories: Sequence[str], themes: list[ThemeRow], allowance: float
    ) -> int | None:
        """The largest smaller guest count whose cheapest plan fits (binary search; None if even 1 does not)."""

        def fits(guests: int) -> bool:
            cost = self._minimum(dataclasses.replace(brief, guest_count=guests), categories, themes)
            return cost is not None and cost <= allowance + CENT

        low, high = 0, brief.guest_count - 1
        while low < high:
            middle = (low + high + 1) // 2
            if fits(middle):
                low = middle
            else:
                high = middle - 1
        return low or None

"""FinalPlanner: turns the agents' candidates into one plan, complete or clearly partial.

One selection step (`agents.selection.select`, scored by the plan's strategy) picks the venue, theme and
cake together within the budget. Nothing is dropped silently: the brief's notes, every agent's warnings
and what is missing all end up in the plan's warnings.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import flags
from .analyzer import Brief
from .constraints import options_constrained, pin_unmet
from .costs import PICK_CATEGORIES, reserved_share
from .recommenders import PlanDraft, Recommender, money
from .selection import Selection, candidates_merge, select
from .strategies import Strategy, strategy_get
from .theme import theme_priced

__all__ = ["AgentOutcome", "FinalPlanner", "money", "party_label"]

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


PARTY_LABELS = {"general": "Party", "corporate": "Corporate event", "reunion": "Reunion", "wedding": "Wedding"}


def party_label(party_type: str) -> str:
    """How a summary names the party: "Birthday party", "Baby shower", "Wedding"."""
    if party_type in PARTY_LABELS:
        return PARTY_LABELS[party_type]
    words = party_type.replace("_", " ").capitalize()
    return words if words.endswith(("shower", "anniversary")) else f"{words} party"


class FinalPlanner:
    """Builds the final plan from the brief and every agent's outcome, with one strategy."""

    def __init__(self, recommenders: Sequence[Recommender] | None = None, strategy: Strategy | None = None) -> None:
        self.strategy = strategy or strategy_get(None)
        self.recommenders = tuple(self.strategy.recommenders if recommenders is None else recommenders)

    def build(
        self, *, brief: Brief, outcomes: Mapping[str, AgentOutcome], constraints: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The plan as JSON-ready data; `status` is complete, partial (something missing) or failed.
        `constraints` are the plan's pins and exclusions, honoured in the selection."""
        failures = {
            agent: outcome.error or outcome.status for agent, outcome in outcomes.items() if not outcome.succeeded
        }
        draft = self._draft(brief, outcomes, constraints or {})
        optional = flags.optional_agents()
        for agent in failures:
            # Warnings are read by the plan's owner; raw errors stay in `failures`, shown to support staff only.
            draft.warnings.append(f"The {agent} part of the plan could not be prepared and is missing.")
            if agent in optional:
                draft.warnings.append(flags.optional_note(agent))
        for agent in failures:
            if agent not in draft.missing:
                draft.missing.append(agent)
        recommendations = [advice for recommender in self.recommenders for advice in recommender(draft)]
        succeeded = [agent for agent, outcome in outcomes.items() if outcome.succeeded]
        if not succeeded:
            status = "failed"
        elif set(draft.missing) - optional:
            status = "partial"
        else:
            status = "complete"
        return {
            "status": status,
            "summary": self._summary(brief, status, draft.missing, draft.selection),
            "venue": draft.picks.get("venue"),
            "theme": draft.picks.get("theme"),
            "cake": draft.picks.get("cake"),
            "alternatives": draft.alternatives,
            "budget": draft.budget,
            "costs": draft.costs,
            "feasible": draft.selection.get("feasible"),
            "selection": draft.selection,
            "missing": sorted(draft.missing),
            "failures": failures,
            "warnings": draft.warnings,
            "recommendations": recommendations,
        }

    def _draft(self, brief: Brief, outcomes: Mapping[str, AgentOutcome], constraints: Mapping[str, Any]) -> PlanDraft:
        warnings = list(brief.notes)
        budget_outcome = outcomes.get("budget")
        budget = dict(budget_outcome.result) if budget_outcome and budget_outcome.succeeded else None
        floor = (budget or {}).get("cheapest") or {}
        candidates: dict[str, list[dict[str, Any]]] = {}
        missing: list[str] = []
        for category in CHOICE_AGENTS:
            outcome = outcomes.get(category)
            if outcome is None:
                continue
            result = outcome.result or {}
            if outcome.succeeded:
                warnings.extend(result.get("warnings", []))
                own = result.get("candidates") or result.get("choices") or []
                merged = candidates_merge(own, [floor[category]] if own and category in floor else [])
                merged = [theme_priced(option, brief.guest_count) for option in merged]
                candidates[category] = options_constrained(category, merged, constraints)
                if own and pin_unmet(category, candidates[category], constraints):
                    warnings.append(
                        f"The pinned {category} is not available for this party; the best other one is used."
                    )
                if not own:
                    missing.append(category)
                    warnings.append(result.get("summary") or f"No {category} fits the brief.")
        if budget:
            warnings.extend(budget.get("warnings", []))
        selection = select(brief=brief, candidates=candidates, strategy=self.strategy)
        picks: dict[str, dict[str, Any] | None] = {
            category: selection.picks.get(category) for category in CHOICE_AGENTS if category in outcomes
        }
        costs = self._costs(brief, selection, complete=not missing and all(picks.values()))
        summary = selection.summary(self.strategy.name)
        summary["remedies"] = self._remedies(selection, budget)
        if selection.feasible is False:
            warnings.append(
                f"No combination of the catalog's options fits the budget: the cheapest costs {money(selection.cost)}"
                f" and needs a budget of at least {money(selection.needed_budget)}, "
                f"{money(selection.needed_budget - (brief.budget or 0))} more than given."
            )
        return PlanDraft(brief, picks, selection.alternatives, budget, costs, missing, warnings, summary)

    @staticmethod
    def _costs(brief: Brief, selection: Selection, *, complete: bool) -> dict[str, Any]:
        """Each pick's cost, the total, the reserve and, when every part is priced, whether it all fits."""
        costs: dict[str, Any] = {
            category: round(float(pick["cost"]), 2) for category, pick in selection.picks.items() if pick
        }
        total = round(sum(costs.values()), 2)
        share = reserved_share(party_type=brief.party_type, age_group=brief.age_group)
        reserved = round((brief.budget or 0) * share, 2)
        costs.update(total=total, reserved=reserved, budget=brief.budget)
        if brief.budget:
            remaining = round(brief.budget - total - reserved, 2)
            costs.update(remaining=remaining, within_budget=(remaining >= 0) if complete else None)
        return costs

    @staticmethod
    def _remedies(selection: Selection, budget: Mapping[str, Any] | None) -> list[str]:
        """What would make an infeasible plan fit: the budget agent's checked list, or at least the budget."""
        if selection.feasible is not False:
            return []
        fallback = [f"Raise the budget to at least {money(selection.needed_budget)}."]
        return list((budget or {}).get("remedies") or fallback)

    @staticmethod
    def _summary(brief: Brief, status: str, missing: Sequence[str], selection: Mapping[str, Any]) -> str:
        where = f" in {brief.city.replace('-', ' ').title()}" if brief.city else ""
        when = f" on {brief.date.isoformat()}" if brief.date else ""
        text = f"{party_label(brief.party_type)} for {brief.guest_count} guests{where}{when}."
        if selection.get("feasible") is False:
            text += f" Infeasible within the budget: it needs at least {money(selection['needed_budget'])}."
        if status == "partial":
            text += f" Partial plan: missing {', '.join(sorted(missing))}."
        elif status == "failed":
            text += " No agent could produce a result."
        return text

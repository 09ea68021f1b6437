"""Selection as one decision: the venue + theme + cake combination with the best total fit within budget.

The agents hand in every option that meets the hard constraints (`agents.constraints`), each with its
cost and the facts a strategy scores. The selector scores each option once, then tries every combination:
the best total fit whose picks plus the catering/contingency reserve stay within the budget wins.

Why it never goes over budget when a fitting plan exists: the hard constraints are per category and the
costs add up, so the cheapest workable plan is the cheapest option of each category. Every agent's list
holds its cheapest workable option (`candidates_ranked` keeps it even when it trims a long list), and the
budget agent reports them too, so that combination is always among those tried. If it fits, at least one
combination fits, and the selector returns the best of those; if it does not fit, nothing in the catalog
does, and the plan says by how much (see the budget agent for what would make it fit).
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .analyzer import Brief
from .costs import PICK_CATEGORIES, budget_shares, reserved_share
from .strategies import Frame, Strategy, strategy_get

MAX_COMBINATIONS = 60_000
ALTERNATIVES = 3
CENT = 0.005


@dataclass(frozen=True)
class Selection:
    """The chosen combination and how it stands against the budget."""

    picks: dict[str, dict[str, Any]]
    alternatives: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cost: float = 0.0
    fit: float = 0.0
    feasible: bool | None = None
    allowance: float | None = None
    needed_budget: float | None = None
    combinations: int = 0
    utilisation: float | None = None

    def summary(self, strategy: str) -> dict[str, Any]:
        """JSON-ready figures for the plan."""
        return {
            "strategy": strategy,
            "fit": round(self.fit, 1),
            "feasible": self.feasible,
            "cost": round(self.cost, 2),
            "allowance": None if self.allowance is None else round(self.allowance, 2),
            "needed_budget": self.needed_budget,
            "utilisation": None if self.utilisation is None else round(self.utilisation, 3),
            "combinations": self.combinations,
        }


def option_key(option: Mapping[str, Any]) -> str:
    """What identifies a catalog option across the agents' lists."""
    return str(option.get("slug") or option.get("id") or option["name"])


def candidates_merge(*lists: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Several candidate lists as one, first occurrence kept."""
    merged: dict[str, dict[str, Any]] = {}
    for options in lists:
        for option in options:
            merged.setdefault(option_key(option), dict(option))
    return list(merged.values())


def candidates_ranked(scored: Sequence[tuple[float, dict[str, Any]]], *, limit: int) -> list[dict[str, Any]]:
    """Options best first (ties to the cheaper), each with its `fit`; at most `limit`, always keeping the
    cheapest, so no trimming can hide the cheapest workable plan."""
    ranked = sorted(scored, key=lambda pair: (-pair[0], pair[1]["cost"], pair[1]["name"]))
    kept = [{**option, "fit": round(fit, 1)} for fit, option in ranked[:limit]]
    if len(ranked) > limit:
        fit, cheapest = min(ranked, key=lambda pair: (pair[1]["cost"], -pair[0]))
        if all(option_key(option) != option_key(cheapest) for option in kept):
            kept[-1] = {**cheapest, "fit": round(fit, 1)}
    return kept


def options_ranked(
    category: str, options: Sequence[dict[str, Any]], brief: Brief, *, limit: int, strategy: Strategy | None = None
) -> list[dict[str, Any]]:
    """An agent's candidate list: its options scored alone by a strategy (the default one), best first."""
    strategy = strategy or strategy_get(None)
    frame = frame_for(brief, {category: options})
    scored = [(strategy.option_fit(category, option, frame), option) for option in options]
    return candidates_ranked(scored, limit=limit)


def frame_for(brief: Brief, candidates: Mapping[str, Sequence[Mapping[str, Any]]]) -> Frame:
    """Each category's spending target (its share of the budget) and cheapest option."""
    shares = budget_shares(party_type=brief.party_type, age_group=brief.age_group)
    present = [category for category in PICK_CATEGORIES if candidates.get(category)]
    targets = {category: brief.budget * shares[category] for category in present} if brief.budget else {}
    cheapest = {category: min(float(option["cost"]) for option in candidates[category]) for category in present}
    return Frame(brief=brief, targets=targets, cheapest=cheapest)


def budget_needed(*, cost: float, brief: Brief) -> float:
    """The smallest whole-dollar budget whose share for the picks covers `cost`."""
    share = reserved_share(party_type=brief.party_type, age_group=brief.age_group)
    return float(math.ceil(round(cost / (1 - share), 6)))


def select(*, brief: Brief, candidates: Mapping[str, Sequence[Mapping[str, Any]]], strategy: Strategy) -> Selection:
    """The best combination of one option per category that fits the budget (the cheapest one when none does).

    Categories without candidates are left out (the planner reports them missing). Without a budget the
    best fit wins and `feasible` is None.
    """
    categories = [category for category in PICK_CATEGORIES if candidates.get(category)]
    if not categories:
        return Selection(picks={})
    frame = frame_for(brief, candidates)
    scored = {
        category: _deduplicated(
            [
                (strategy.option_fit(category, option, frame), round(float(option["cost"]), 2), option)
                for option in candidates[category]
            ]
        )
        for category in categories
    }
    scored = _within_limit(scored)
    pair = _pair_table(scored, strategy)
    allowance = None
    if brief.budget:
        allowance = brief.budget * (1 - reserved_share(party_type=brief.party_type, age_group=brief.age_group))

    best, cheapest, combinations = combinations_search(
        [[(entry[0], entry[1]) for entry in scored[category]] for category in categories],
        pair=pair,
        theme_at=categories.index("theme") if pair is not None else 0,
        allowance=allowance,
    )
    feasible = None if allowance is None else best is not None
    fit, cost, combo = best if best is not None else cheapest
    picks = {category: {**scored[category][index][2]} for category, index in zip(categories, combo, strict=True)}
    for category, index in zip(categories, combo, strict=True):
        picks[category]["fit"] = round(scored[category][index][0], 1)
    if pair is not None:
        _explain_pair(picks["theme"], picks["cake"])
    targets = sum(frame.targets.values())
    return Selection(
        picks=picks,
        alternatives=_alternatives(scored, picks, cost=cost, allowance=allowance if feasible else None),
        cost=cost,
        fit=fit,
        feasible=feasible,
        allowance=allowance,
        needed_budget=budget_needed(cost=cost, brief=brief) if feasible is False else None,
        combinations=combinations,
        utilisation=cost / targets if targets else None,
    )


Scored = list[tuple[float, float, Mapping[str, Any]]]
Found = tuple[float, float, tuple[int, ...]]  # total fit, total cost, one option index per category


def combinations_search(
    options: Sequence[Sequence[tuple[float, float]]],
    *,
    pair: Sequence[Sequence[float]] | None = None,
    theme_at: int = 0,
    allowance: float | None = None,
) -> tuple[Found | None, Found, int]:
    """Try every combination of one (fit, cost) per category: the best fit within `allowance` (among equal
    fits the cheaper, among equal ones the first in product order), the cheapest overall (among equal
    costs the better fit), and how many combinations there were. `pair[theme][cake]` adds to the fit;
    with a pair, cake is the last category and theme is at `theme_at`.

    A combination's fit adds its categories' fits in order, then the pair's, as the plan always added
    them; costs add in whole cents, so equal totals compare equal (a total is `cents / 100`, what rounding
    the float sum to cents gives). The last category is the inner loop over partial sums of the others.
    """
    in_cents = [[(fit, round(cost * 100), index) for index, (fit, cost) in enumerate(entries)] for entries in options]
    *outer, last = in_cents
    prefixes: list[tuple[float, int, tuple[int, ...]]] = [(0, 0, ())]
    for category in outer:
        prefixes = [(fit + f, cents + c, (*combo, i)) for fit, cents, combo in prefixes for f, c, i in category]
    limit = None if allowance is None else _cents_within(allowance + CENT)
    best_fit = best_cents = cheapest_fit = cheapest_cents = None
    best = cheapest = None
    for fit_before, cents_before, combo in prefixes:
        row = pair[combo[theme_at]] if pair is not None else None
        for f, c, i in last:
            fit = fit_before + f + row[i] if row is not None else fit_before + f
            cents = cents_before + c
            if cheapest is None or cents < cheapest_cents or (cents == cheapest_cents and fit > cheapest_fit):
                cheapest, cheapest_fit, cheapest_cents = (combo, i), fit, cents
            if limit is not None and cents > limit:
                continue
            if best is None or fit > best_fit or (fit == best_fit and cents < best_cents):
                best, best_fit, best_cents = (combo, i), fit, cents
    combinations = len(prefixes) * len(last)
    found = None if best is None else (best_fit, best_cents / 100, (*best[0], best[1]))
    return found, (cheapest_fit, cheapest_cents / 100, (*cheapest[0], cheapest[1])), combinations


def _cents_within(bound: float) -> int:
    """The largest whole number of cents whose amount (`cents / 100`) is not over `bound`."""
    cents = math.floor(bound * 100)
    while (cents + 1) / 100 <= bound:
        cents += 1
    while cents / 100 > bound:
        cents -= 1
    return cents


def _deduplicated(options: Scored) -> Scored:
    """Best fit first; of options with the same key only the first counts."""
    seen: set[str] = set()
    unique = []
    for entry in sorted(options, key=lambda entry: (-entry[0], entry[1])):
        key = option_key(entry[2])
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return unique


def _within_limit(scored: dict[str, Scored]) -> dict[str, Scored]:
    """Trim the longest lists (keeping each one's best fits and its cheapest) until the product is searchable."""
    while math.prod(len(options) for options in scored.values()) > MAX_COMBINATIONS:
        category = max(scored, key=lambda name: len(scored[name]))
        options = scored[category]
        keep = max(2, len(options) * 3 // 4)
        cheapest = min(options, key=lambda entry: (entry[1], -entry[0]))
        trimmed = options[:keep]
        if cheapest not in trimmed:
            trimmed[-1] = cheapest
        scored[category] = trimmed
    return scored


def _pair_table(scored: Mapping[str, Scored], strategy: Strategy) -> list[list[float]] | None:
    """The theme x cake pair fits, when both are being chosen."""
    if "theme" not in scored or "cake" not in scored:
        return None
    return [[strategy.pair_fit(theme, cake) for _, _, cake in scored["cake"]] for _, _, theme in scored["theme"]]


def _explain_pair(theme: dict[str, Any], cake: dict[str, Any]) -> None:
    """Say so on the cake when it was chosen partly for the theme's style."""
    shared = sorted(
        {tag.lower() for tag in theme.get("style_tags", [])} & {tag.lower() for tag in cake.get("style_tags", [])}
    )
    if shared:
        cake["reasons"] = [*cake.get("reasons", []), f"goes with the {theme['name']} theme ({', '.join(shared)})"]


def _alternatives(
    scored: Mapping[str, Scored], picks: Mapping[str, Mapping[str, Any]], *, cost: float, allowance: float | None
) -> dict[str, list[dict[str, Any]]]:
    """Per category, the next best options that could replace the pick alone (within budget when it fits)."""
    result: dict[str, list[dict[str, Any]]] = {}
    for category, options in scored.items():
        chosen = picks[category]
        swaps = []
        for fit, option_cost, option in options:
            if option_key(option) == option_key(chosen):
                continue
            if allowance is not None and cost - float(chosen["cost"]) + option_cost > allowance + CENT:
                continue
            swaps.append({**option, "fit": round(fit, 1)})
            if len(swaps) == ALTERNATIVES:
                break
        result[category] = swaps
    return result

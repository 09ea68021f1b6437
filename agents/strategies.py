"""Selection strategies: how options are scored, and which advice a plan gets. Named, so they can be A/B tested.

A strategy scores one option of one category from the facts its agent reported (`option_fit`) and a theme
with a cake (`pair_fit`); the selector adds these up over a combination and keeps the best one that fits
the budget. That is the whole interface, so a learned ranker can replace `option_fit` later.

Spending is a target as well as a ceiling: each category earns credit for using its share of the budget
(`spend`), up to that share (or the part of it a strategy `aim`s at), and loses some beyond it; without
a budget, dearer options pay a small price instead. The hard ceiling (picks + reserve <= budget) is the
selector's, never traded for fit.

Arms: settings.SELECTION_ARMS maps strategy names to traffic weights; `arm_for_owner` hashes the owner
with settings.SELECTION_EXPERIMENT, so one person always sees one behaviour.
"""

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from .analyzer import Brief
from .recommenders import DEFAULT_RECOMMENDERS, Recommender

DEFAULT_STRATEGY = "balanced"
MAX_SHARED_TAGS = 3


@dataclass(frozen=True)
class Frame:
    """What a score depends on beyond the option itself: the brief and each category's spending target."""

    brief: Brief
    targets: Mapping[str, float] = field(default_factory=dict)
    cheapest: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Strategy:
    """A named linear scorer over the agents' facts, with its spending weights and recommenders."""

    name: str
    weights: Mapping[str, Mapping[str, float]]
    spend: float = 60.0
    overspend: float = 30.0
    aim: float = 1.0
    no_budget_cost: float = 4.0
    pair: float = 10.0
    recommenders: tuple[Recommender, ...] = DEFAULT_RECOMMENDERS

    def option_fit(self, category: str, option: Mapping[str, Any], frame: Frame) -> float:
        """How well one option fits: its weighted facts plus the spending term."""
        weights = self.weights.get(category, {})
        fit = sum(weights.get(name, 0.0) * float(value) for name, value in option.get("facts", {}).items())
        return fit + self.spend_fit(category, float(option["cost"]), frame)

    def pair_fit(self, theme: Mapping[str, Any], cake: Mapping[str, Any]) -> float:
        """A cake that shares the theme's style tags fits it better."""
        theme_tags = {tag.lower() for tag in theme.get("style_tags", [])}
        shared = theme_tags & {tag.lower() for tag in cake.get("style_tags", [])}
        return self.pair * min(len(shared), MAX_SHARED_TAGS)

    def spend_fit(self, category: str, cost: float, frame: Frame) -> float:
        """Credit for spending up to `aim` of the category's share of the budget (its target), a penalty past
        it; without a budget, a small penalty per doubling of the cheapest option's cost."""
        target = frame.targets.get(category)
        if target:
            share = target / sum(frame.targets.values())
            ratio = cost / (target * self.aim)
            return share * (self.spend * min(ratio, 1.0) - self.overspend * max(ratio - 1.0, 0.0))
        cheapest = frame.cheapest.get(category)
        if cheapest and cost > cheapest:
            return -self.no_budget_cost * math.log2(cost / cheapest)
        return 0.0


BALANCED_WEIGHTS = {
    "venue": {
        "occupancy": 20, "party_type": 25, "setting": 25, "rating": 10, "perks": 6, "amenities": 6,
    },
    "theme": {
        "preference": 60, "party_type": 15, "dedicated": 12, "age": 10, "season": 12, "setting": 8, "variety": 12,
    },
    "cake": {"rating": 8, "asked_style": 20, "audience": 8, "extra_cakes": -3, "waste": -6},
}  # fmt: skip

STRATEGIES: dict[str, Strategy] = {
    strategy.name: strategy
    for strategy in (
        Strategy(name="balanced", weights=BALANCED_WEIGHTS),
        # Aims at 60 % of each share: a clearly better fit may still spend more, a slightly better one does not.
        Strategy(name="value", weights=BALANCED_WEIGHTS, spend=40.0, overspend=60.0, aim=0.6, no_budget_cost=8.0),
    )
}


def strategy_get(name: str | None) -> Strategy:
    """The strategy of that name (the default for an unknown or empty name, e.g. a plan made before arms)."""
    return STRATEGIES.get(name or "", STRATEGIES[DEFAULT_STRATEGY])


def active_arms(arms: Mapping[str, float] | None = None) -> list[tuple[str, float]]:
    """The configured arms with a positive weight, in name order; raises ValueError for an unknown name."""
    arms = settings.SELECTION_ARMS if arms is None else arms
    unknown = sorted(set(arms) - set(STRATEGIES))
    if unknown:
        raise ValueError(f"Unknown selection strategies in SELECTION_ARMS: {', '.join(unknown)}.")
    active = sorted((name, float(weight)) for name, weight in arms.items() if float(weight) > 0)
    return active or [(DEFAULT_STRATEGY, 1.0)]


def arm_for_owner(owner_id: Any, *, arms: Mapping[str, float] | None = None, experiment: str | None = None) -> str:
    """The arm a person's plans use: a stable hash of the experiment and the owner into the traffic split."""
    active = active_arms(arms)
    salt = settings.SELECTION_EXPERIMENT if experiment is None else experiment
    digest = hashlib.sha256(f"{salt}:{owner_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * sum(weight for _, weight in active)
    for name, weight in active:
        if point < weight:
            return name
        point -= weight
    return active[-1][0]


def stable_fraction(*parts: Sequence[str] | str) -> float:
    """A number in [0, 1) fixed by its inputs: breaks ties between equally good options differently per plan."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64

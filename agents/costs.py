"""How a budget splits across categories, and how a cost compares with its share."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planning.models import Cake

    from .base import AgentContext

PICK_CATEGORIES = ("venue", "theme", "cake")
RESERVED_CATEGORIES = ("catering", "contingency")

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


def category_target(context: "AgentContext", category: str) -> float | None:
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


def reserved_share(*, party_type: str, age_group: str) -> float:
    """The part of the budget set aside for catering and a contingency, which the picks must leave."""
    shares = budget_shares(party_type=party_type, age_group=age_group)
    return sum(shares[category] for category in RESERVED_CATEGORIES)


def cake_servings(cake: "Cake", guests: int) -> int:
    """Servings to order: every guest, and at least the bakery's minimum."""
    return max(guests, cake.min_servings)


def cake_cost(cake: "Cake", guests: int) -> float:
    """What a cake costs for `guests` guests, in USD."""
    return round(float(cake.price_per_serving) * cake_servings(cake, guests), 2)

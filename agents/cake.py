"""CakeAgent: every cake order (one cake, or several for a big party) that meets every dietary need, can
be ready before the date and suits the crowd, with the facts a strategy scores."""

from typing import Any

from planning.catalog_cache import CakeRow

from .analyzer import Brief
from .base import Agent, AgentContext
from .constraints import MAX_CAKES_PER_ORDER, cake_order, cake_problem, days_until
from .selection import options_ranked

WASTE_CAP = 3.0


def cake_facts(cake: CakeRow, brief: Brief) -> tuple[dict[str, float], list[str]]:
    """What makes a cake order fit this party, as numbers for a strategy and as readable reasons."""
    order = cake_order(cake, brief.guest_count)
    tags = {tag.lower() for tag in cake.style_tags}
    facts: dict[str, float] = {"rating": round(float(cake.bakery.rating) - 3.5, 2)}
    reasons: list[str] = []
    if brief.dietary_needs:
        reasons.append(f"{', '.join(brief.dietary_needs).replace('_', '-')} as needed")
    asked = {preference.lower() for preference in brief.theme_preferences} & tags
    facts["asked_style"] = float(bool(asked))
    if asked:
        reasons.append(f"styled for {', '.join(sorted(asked))}")
    if "kids" in tags:
        facts["audience"] = 1.0 if brief.age_group == "kids" else -1.0
    facts["extra_cakes"] = float(order.quantity - 1)
    if order.quantity > 1:
        reasons.append(f"{order.quantity} cakes of up to {cake.max_servings} servings each")
    facts["waste"] = round(min(order.servings / brief.guest_count - 1, WASTE_CAP), 2)
    return facts, reasons


def cake_option(cake: CakeRow, brief: Brief) -> dict[str, Any]:
    """A cake order as a candidate: what the plan shows, its cost and its facts."""
    order = cake_order(cake, brief.guest_count)
    facts, reasons = cake_facts(cake, brief)
    return {
        "id": cake.pk,
        "name": cake.name,
        "bakery": cake.bakery.name,
        "flavor": cake.flavor,
        "dietary": list(cake.dietary),
        "style_tags": list(cake.style_tags),
        "quantity": order.quantity,
        "servings": order.servings,
        "price_per_serving": float(cake.price_per_serving),
        "lead_time_days": cake.lead_time_days,
        "cost": order.cost,
        "facts": facts,
        "reasons": reasons,
    }


def cake_options(cakes: list[CakeRow], brief: Brief) -> tuple[list[dict[str, Any]], str]:
    """The cake orders that meet every hard constraint, and, when none does, the plain reason why not."""
    days_left = days_until(brief.date)
    options = [cake_option(cake, brief) for cake in cakes if cake_problem(cake, brief, days_left=days_left) is None]
    return options, "" if options else _why_none(cakes, brief, days_left)


def _why_none(cakes: list[CakeRow], brief: Brief, days_left: int | None) -> str:
    """The first constraint that rules every cake out: size, then diet, then time."""
    guests, city = brief.guest_count, (brief.city or "").replace("-", " ").title()
    big_enough = [cake for cake in cakes if cake_order(cake, guests) is not None]
    if not big_enough:
        largest = max((cake.max_servings for cake in cakes), default=0) * MAX_CAKES_PER_ORDER
        return (
            f"No bakery in {city} can serve {guests} guests: the largest order there "
            f"({MAX_CAKES_PER_ORDER} cakes) serves {largest}."
        )
    needs = set(brief.dietary_needs)
    suitable = [cake for cake in big_enough if needs <= set(cake.dietary)]
    if not suitable:
        wanted = ", ".join(sorted(needs)).replace("_", "-")
        return f"No bakery in {city} makes a {wanted} cake for {guests} guests."
    quickest = min(cake.lead_time_days for cake in suitable)
    if days_left is not None and quickest > days_left:
        return (
            f"No suitable cake can be ready by {brief.date.isoformat()}: "
            f"the quickest needs {quickest} days' notice and {max(days_left, 0)} remain."
        )
    return f"No cake in {city} suits this party."


class CakeAgent(Agent):
    name = "cake"
    reads = ("guest_count", "dietary_needs", "theme_preferences", "age_group", "date", "city", "budget", "party_type")
    depth = 40

    def run(self, context: AgentContext) -> dict[str, Any]:
        brief = context.brief
        if not brief.city:
            return {"summary": "No known city in the request, so no bakery could be chosen.", "choices": []}
        options, why_not = cake_options(self.provider.cakes(city=brief.city, servings=1), brief)
        if not options:
            return {"summary": why_not, "choices": [], "candidates": []}
        candidates = options_ranked("cake", options, brief, limit=self.depth)
        best = candidates[0]
        return {
            "summary": f"{best['name']} from {best['bakery']} (${best['cost']:,.2f})",
            "choices": candidates[: self.top_n],
            "candidates": candidates,
        }

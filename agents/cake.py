"""CakeAgent: finds cakes that meet every dietary need and the date, matched to the chosen theme."""

import datetime
from typing import Any

from django.utils import timezone

from planning.models import Cake

from .base import Agent, AgentContext
from .costs import allowance_fit, cake_cost, cake_servings, category_target


def days_until(date: datetime.date | None) -> int | None:
    """Whole days from today to `date` (None without a date)."""
    return (date - timezone.localdate()).days if date else None


def cake_fits(cake: Cake, *, needs: set[str], days_left: int | None) -> bool:
    """A cake meets every dietary need and can be baked before the party."""
    return needs <= set(cake.dietary) and (days_left is None or cake.lead_time_days <= days_left)


class CakeAgent(Agent):
    name = "cake"

    def run(self, context: AgentContext) -> dict[str, Any]:
        brief = context.brief
        if not brief.city:
            return {"summary": "No known city in the request, so no bakery could be chosen.", "choices": []}
        needs, days_left = set(brief.dietary_needs), days_until(brief.date)
        candidates = self.provider.cakes(city=brief.city, servings=brief.guest_count)
        cakes = [cake for cake in candidates if cake_fits(cake, needs=needs, days_left=days_left)]
        target = category_target(context, "cake")
        theme_tags = self._theme_tags(context)
        choices = self.top([self._score(cake, context, target, theme_tags) for cake in cakes])
        if not choices:
            wanted = ", ".join(sorted(needs)).replace("_", "-") or "no special"
            return {
                "summary": f"No bakery there offers a cake for {brief.guest_count} ({wanted} diet) in time.",
                "choices": [],
            }
        best = choices[0]
        return {"summary": f"{best['name']} from {best['bakery']} (${best['cost']:,.2f})", "choices": choices}

    @staticmethod
    def _theme_tags(context: AgentContext) -> set[str]:
        """Style tags and keywords of the theme the theme agent picked, if it succeeded."""
        choices = context.upstream.get("theme", {}).get("choices") or []
        if not choices:
            return set()
        return {tag.lower() for tag in choices[0]["style_tags"] + choices[0]["keywords"]}

    def _score(
        self, cake: Cake, context: AgentContext, target: float | None, theme_tags: set[str]
    ) -> tuple[float, dict[str, Any]]:
        brief = context.brief
        cost = cake_cost(cake, brief.guest_count)
        score, reasons = 0.0, []
        if brief.dietary_needs:
            reasons.append(f"{', '.join(brief.dietary_needs).replace('_', '-')} as needed")
        shared = theme_tags & {tag.lower() for tag in cake.style_tags}
        if shared:
            score += 12 * len(shared)
            reasons.append(f"fits the theme ({', '.join(sorted(shared))})")
        asked = set(brief.theme_preferences) & {tag.lower() for tag in cake.style_tags}
        if asked:
            score += 20
            reasons.append(f"styled for {', '.join(sorted(asked))}")
        fit, reason = allowance_fit(cost=cost, target=target, category="cake", bonus=15, penalty=20, cap=40)
        score += fit
        reasons.extend(filter(None, [reason]))
        score += (float(cake.bakery.rating) - 3.5) * 8
        option = {
            "id": cake.pk,
            "name": cake.name,
            "bakery": cake.bakery.name,
            "flavor": cake.flavor,
            "dietary": list(cake.dietary),
            "servings": cake_servings(cake, brief.guest_count),
            "price_per_serving": float(cake.price_per_serving),
            "lead_time_days": cake.lead_time_days,
            "cost": cost,
            "reasons": reasons,
        }
        return score, option

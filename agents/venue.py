"""VenueAgent: ranks the city's venues by fit for the party: size, setting, suitability, price, rating."""

from typing import Any

from planning.models import Venue

from .base import Agent, AgentContext
from .costs import allowance_fit, category_target


class VenueAgent(Agent):
    name = "venue"

    def run(self, context: AgentContext) -> dict[str, Any]:
        brief = context.brief
        if not brief.city:
            return {"summary": "No known city in the request, so no venue could be chosen.", "choices": []}
        target = category_target(context, "venue")
        venues = self.provider.venues(city=brief.city, guests=brief.guest_count)
        choices = self.top([self._score(venue, context, target) for venue in venues])
        if not choices:
            return {"summary": f"No venue in the catalog holds {brief.guest_count} guests there.", "choices": []}
        best = choices[0]
        return {"summary": f"{best['name']} (capacity {best['capacity']}, ${best['cost']:,.0f})", "choices": choices}

    def _score(self, venue: Venue, context: AgentContext, target: float | None) -> tuple[float, dict[str, Any]]:
        brief = context.brief
        cost = venue.cost_for(brief.guest_count)
        score, reasons = 0.0, []
        occupancy = brief.guest_count / venue.capacity
        score += 20 * occupancy
        if occupancy >= 0.5:
            reasons.append(f"{venue.capacity} places for {brief.guest_count} guests")
        if brief.party_type in venue.party_types:
            score += 15
            reasons.append(f"hosts {brief.party_type.replace('_', ' ')} parties")
        if brief.setting != "any":
            if venue.setting == brief.setting:
                score += 25
                reasons.append(f"{venue.setting} as requested")
            elif venue.setting == "mixed":
                score += 15
                reasons.append("indoor and outdoor space")
            else:
                score -= 35
        score += self._audience_fit(venue, brief.age_group, reasons)
        fit, reason = allowance_fit(cost=cost, target=target, category="venue", bonus=15, penalty=30, cap=60)
        score += fit
        reasons.extend(filter(None, [reason]))
        score += (float(venue.rating) - 3.5) * 10
        option = {
            "id": venue.pk,
            "name": venue.name,
            "city": venue.city.name,
            "capacity": venue.capacity,
            "setting": venue.setting,
            "amenities": list(venue.amenities),
            "rating": float(venue.rating),
            "cost": float(cost),
            "reasons": reasons,
        }
        return score, option

    @staticmethod
    def _audience_fit(venue: Venue, age_group: str, reasons: list[str]) -> float:
        """A play area suits kids; indoor play venues without a bar do not suit adults; a bar and a dance floor do."""
        play_area = "kids_play_area" in venue.amenities
        if age_group == "kids":
            if play_area:
                reasons.append("has a kids' play area")
                return 15
            return 0
        if age_group != "adults":
            return 0
        if play_area and venue.setting == "indoor" and "bar" not in venue.amenities:
            return -60
        perks = [name for name in ("bar", "dance_floor") if name in venue.amenities]
        if perks:
            reasons.append(f"has a {' and a '.join(perk.replace('_', ' ') for perk in perks)}")
        return 6 * len(perks)

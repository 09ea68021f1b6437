"""VenueAgent: every venue in the city that can host the party, with the facts a strategy scores."""

from typing import Any

from planning.catalog_cache import VenueRow

from .analyzer import Brief
from .base import Agent, AgentContext
from .constraints import venue_problem
from .selection import options_ranked

SETTING_FIT = {"same": 1.0, "mixed": 0.6, "other": -1.0}


def venue_facts(venue: VenueRow, brief: Brief) -> tuple[dict[str, float], list[str]]:
    """What makes a venue fit this party, as numbers for a strategy and as readable reasons."""
    facts: dict[str, float] = {}
    reasons: list[str] = []
    facts["occupancy"] = round(brief.guest_count / venue.capacity, 3)
    if facts["occupancy"] >= 0.5:
        reasons.append(f"{venue.capacity} places for {brief.guest_count} guests")
    facts["party_type"] = float(brief.party_type in venue.party_types)
    if facts["party_type"]:
        reasons.append(f"hosts {brief.party_type.replace('_', ' ')} parties")
    if brief.setting != "any":
        match = "same" if venue.setting == brief.setting else "mixed" if venue.setting == "mixed" else "other"
        facts["setting"] = SETTING_FIT[match]
        reasons.append({"same": f"{venue.setting} as requested", "mixed": "indoor and outdoor space"}.get(match, ""))
    facts["rating"] = round(float(venue.rating) - 3.5, 2)
    if brief.age_group == "kids":
        facts["perks"] = float("kids_play_area" in venue.amenities)
        if facts["perks"]:
            reasons.append("has a kids' play area")
    elif brief.age_group == "adults":
        perks = [name for name in ("bar", "dance_floor") if name in venue.amenities]
        facts["perks"] = float(len(perks))
        if perks:
            reasons.append(f"has a {' and a '.join(perk.replace('_', ' ') for perk in perks)}")
    facts["amenities"] = round(len(venue.amenities) / 10, 2)
    return facts, [reason for reason in reasons if reason]


def venue_option(venue: VenueRow, brief: Brief) -> dict[str, Any]:
    """A venue as a candidate: what the plan shows, its cost and its facts."""
    facts, reasons = venue_facts(venue, brief)
    return {
        "id": venue.pk,
        "name": venue.name,
        "city": venue.city.name,
        "capacity": venue.capacity,
        "setting": venue.setting,
        "amenities": list(venue.amenities),
        "audiences": list(venue.audiences),
        "rating": float(venue.rating),
        "cost": float(venue.cost_for(brief.guest_count)),
        "facts": facts,
        "reasons": reasons,
    }


def venue_options(venues: list[VenueRow], brief: Brief) -> tuple[list[dict[str, Any]], str]:
    """The venues that meet every hard constraint, and, when none does, why not."""
    problems = [(venue, venue_problem(venue, brief)) for venue in venues]
    options = [venue_option(venue, brief) for venue, problem in problems if problem is None]
    if options:
        return options, ""
    if not any(venue.capacity >= brief.guest_count for venue in venues):
        return [], f"No venue in the catalog holds {brief.guest_count} guests there."
    return [], (
        f"No venue there suits {brief.guest_count} guests ({brief.age_group}): "
        + "; ".join(sorted(f"{venue.name} {problem}" for venue, problem in problems)[:3])
        + "."
    )


class VenueAgent(Agent):
    name = "venue"
    reads = ("guest_count", "party_type", "setting", "age_group", "city", "budget")
    depth = 40

    def run(self, context: AgentContext) -> dict[str, Any]:
        brief = context.brief
        if not brief.city:
            return {"summary": "No known city in the request, so no venue could be chosen.", "choices": []}
        options, why_not = venue_options(self.provider.venues(city=brief.city, guests=brief.guest_count), brief)
        if not options:
            return {"summary": why_not, "choices": [], "candidates": []}
        candidates = options_ranked("venue", options, brief, limit=self.depth)
        best = candidates[0]
        return {
            "summary": f"{best['name']} (capacity {best['capacity']}, ${best['cost']:,.0f})",
            "choices": candidates[: self.top_n],
            "candidates": candidates,
        }

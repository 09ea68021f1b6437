"""ThemeAgent: every theme that suits the party, with the facts a strategy scores: the guests' own wishes,
the occasion, the age group, the season and the setting."""

from typing import Any

from planning.catalog_cache import ThemeRow

from .analyzer import Brief
from .base import Agent, AgentContext
from .constraints import occasion_for, season_of, theme_matches, theme_problem
from .selection import options_ranked
from .strategies import stable_fraction


def known_occasions(themes: list[ThemeRow]) -> set[str]:
    """Every party type some theme is made for."""
    return {party_type for theme in themes for party_type in theme.party_types}


def theme_facts(theme: ThemeRow, brief: Brief, *, occasion: str) -> tuple[dict[str, float], list[str]]:
    """What makes a theme fit this party, as numbers for a strategy and as readable reasons."""
    facts: dict[str, float] = {}
    reasons: list[str] = []
    matched = [preference for preference in brief.theme_preferences if theme_matches(theme, preference)]
    facts["preference"] = float(len(matched))
    if matched:
        reasons.append(f"matches the request for {', '.join(matched)}")
    words = occasion.replace("_", " ")
    facts["party_type"] = float(occasion != "general" and occasion in theme.party_types)
    if facts["party_type"]:
        reasons.append(f"made for {words} parties")
    keywords = {keyword.lower() for keyword in theme.keywords}
    facts["dedicated"] = float(occasion != "general" and bool(keywords & {words, *words.split()}))
    facts["age"] = float(brief.age_group in theme.age_groups)
    if facts["age"]:
        reasons.append(f"suits {brief.age_group}")
    season = season_of(brief.date)
    if season and theme.seasons:
        facts["season"] = 1.0 if season in theme.seasons else -1.0
        if facts["season"] > 0:
            reasons.append(f"in season ({season})")
    if brief.setting in ("indoor", "outdoor") and theme.settings:
        facts["setting"] = 1.0 if brief.setting in theme.settings else -1.0
    facts["variety"] = round(stable_fraction(variety_key(brief), theme.slug), 3)
    return facts, reasons


def variety_key(brief: Brief) -> str:
    """What varies the tie-break between equally fitting themes: the request itself, so one request always
    gets the same plan and different requests spread over the good themes."""
    return "|".join(map(str, (brief.party_type, brief.date, brief.city, brief.budget, brief.age_group,
                              brief.setting, brief.dietary_needs)))  # fmt: skip


def theme_priced(option: dict[str, Any], guests: int) -> dict[str, Any]:
    """A theme option with `cost` for `guests` guests (the agent prices options before per-guest costs, so
    that its result does not depend on the guest count and survives a change of it)."""
    if "cost_per_guest" not in option:
        return option
    return {**option, "cost": round(option["base_cost"] + option["cost_per_guest"] * guests, 2)}


def theme_options(themes: list[ThemeRow], brief: Brief) -> list[dict[str, Any]]:
    """The themes that meet every hard constraint, as candidates, priced before per-guest costs."""
    occasion = occasion_for(brief.party_type, known_occasions(themes))
    options = []
    for theme in themes:
        if theme_problem(theme, brief, occasion=occasion) is not None:
            continue
        facts, reasons = theme_facts(theme, brief, occasion=occasion)
        options.append(
            {
                "id": theme.pk,
                "slug": theme.slug,
                "name": theme.name,
                "cost": float(theme.decoration_base_cost),
                "base_cost": float(theme.decoration_base_cost),
                "cost_per_guest": float(theme.cost_per_guest),
                "style_tags": list(theme.style_tags),
                "keywords": list(theme.keywords),
                "age_groups": list(theme.age_groups),
                "party_types": list(theme.party_types),
                "description": theme.description,
                "facts": facts,
                "reasons": reasons,
            }
        )
    return options


def theme_notes(themes: list[ThemeRow], brief: Brief) -> list[str]:
    """What the catalog cannot honour: a wished-for theme it does not have, an occasion no theme is made for."""
    notes = [
        f"No theme in the catalog matches '{preference}'; the theme was chosen from the rest of the request."
        for preference in brief.theme_preferences
        if not any(theme_matches(theme, preference) for theme in themes)
    ]
    if occasion_for(brief.party_type, known_occasions(themes)) != brief.party_type:
        notes.append(f"No theme is made for {brief.party_type.replace('_', ' ')} parties; general themes offered.")
    return notes


class ThemeAgent(Agent):
    name = "theme"
    reads = ("party_type", "date", "city", "budget", "age_group", "setting", "dietary_needs", "theme_preferences")
    depth = 60

    def run(self, context: AgentContext) -> dict[str, Any]:
        brief = context.brief
        themes = self.provider.themes()
        options = theme_options(themes, brief)
        notes = theme_notes(themes, brief)
        if not options:
            return {"summary": "No theme suits this party.", "choices": [], "candidates": [], "warnings": notes}
        candidates = options_ranked("theme", options, brief, limit=self.depth)
        best = candidates[0]
        asked = ", ".join(brief.theme_preferences)
        price = f"${best['base_cost']:,.0f}" + (
            f" + ${best['cost_per_guest']:,.0f}/guest" if best["cost_per_guest"] else ""
        )
        summary = f"{best['name']} ({price})" + (f" for '{asked}'" if asked else "")
        return {"summary": summary, "choices": candidates[: self.top_n], "candidates": candidates, "warnings": notes}

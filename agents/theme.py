"""ThemeAgent: ranks themes by the guests' preferences, the party type, the age group and cost."""

from typing import Any

from planning.models import Theme

from .analyzer import Brief
from .base import Agent, AgentContext
from .costs import allowance_fit, category_target


def theme_matches(theme: Theme, preference: str) -> bool:
    """True when a preference names this theme (a keyword, its slug or its name)."""
    asked = set(preference.lower().split())
    names = [keyword.lower() for keyword in theme.keywords] + [theme.slug.replace("-", " "), theme.name.lower()]
    return bool(asked) and any(asked <= set(name.split()) or set(name.split()) <= asked for name in names)


def suits_age(theme: Theme, age_group: str) -> bool:
    """The theme is made for this age group (or for all ages)."""
    return age_group in theme.age_groups or "all" in theme.age_groups


def theme_fits(theme: Theme, brief: Brief) -> bool:
    """A theme may be offered: children only get themes made for them."""
    return brief.age_group != "kids" or suits_age(theme, "kids")


class ThemeAgent(Agent):
    name = "theme"

    def run(self, context: AgentContext) -> dict[str, Any]:
        brief = context.brief
        target = category_target(context, "theme")
        scored = [self._score(theme, context, target) for theme in self.provider.themes()]
        choices = self.top([pair for pair in scored if pair is not None])
        if not choices:
            return {"summary": "No theme suits this party.", "choices": []}
        best = choices[0]
        asked = ", ".join(brief.theme_preferences)
        summary = f"{best['name']} (${best['cost']:,.0f})" + (f" for '{asked}'" if asked else "")
        return {"summary": summary, "choices": choices}

    def _score(self, theme: Theme, context: AgentContext, target: float | None) -> tuple[float, dict[str, Any]] | None:
        brief = context.brief
        if not theme_fits(theme, brief):
            return None
        cost = theme.cost_for(brief.guest_count)
        score, reasons = 0.0, []
        matched = [preference for preference in brief.theme_preferences if theme_matches(theme, preference)]
        if matched:
            score += 50 * len(matched)
            reasons.append(f"matches the request for {', '.join(matched)}")
        if brief.party_type in theme.party_types:
            score += 15
            reasons.append(f"made for {brief.party_type.replace('_', ' ')} parties")
        if suits_age(theme, brief.age_group):
            score += 10
            reasons.append(f"suits {brief.age_group}")
        fit, reason = allowance_fit(cost=cost, target=target, category="decoration", bonus=10, penalty=20, cap=40)
        score += fit
        reasons.extend(filter(None, [reason]))
        option = {
            "slug": theme.slug,
            "name": theme.name,
            "cost": float(cost),
            "style_tags": list(theme.style_tags),
            "keywords": list(theme.keywords),
            "description": theme.description,
            "reasons": reasons,
        }
        return score, option

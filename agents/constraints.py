"""Hard constraints: what no plan may trade away, whatever it scores.

Each check returns None when an option may be offered, or a short reason why not. The agents use them to
build their candidate lists and the budget agent to find the cheapest workable plan, so both see the same
catalog. Age groups: a party for kids, teens or adults gets options made for that group; a mixed or
unknown crowd ("all") gets venues made for grown-ups and no theme made only for children; a children's
cake is only for a children's party. A theme (or a cake styled for it) the person asked for by name is
theirs to choose, so it is exempt from the age and occasion rules (never from anything else).
"""

import datetime
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from planning.models import Cake, Theme, Venue

from .analyzer import Brief

OVERSIZE_FACTOR = 4
OVERSIZE_SLACK = 30
MAX_CAKES_PER_ORDER = 5
CHILDREN = frozenset({"kids"})
SEASON_OF_MONTH = {
    12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
    6: "summer", 7: "summer", 8: "summer", 9: "autumn", 10: "autumn", 11: "autumn",
}  # fmt: skip


def max_capacity(guests: int) -> int:
    """The largest venue that is not absurdly oversized for `guests`."""
    return max(guests * OVERSIZE_FACTOR, guests + OVERSIZE_SLACK)


def days_until(date: datetime.date | None) -> int | None:
    """Whole days from today to `date` (None without a date)."""
    return (date - timezone.localdate()).days if date else None


def season_of(date: datetime.date | None) -> str | None:
    """The (northern) season of a date, or None without one."""
    return SEASON_OF_MONTH[date.month] if date else None


def suits_age(groups: Iterable[str], age_group: str) -> bool:
    """A theme labelled for `groups` suits a crowd of `age_group`; a mixed crowd rules out children-only ones."""
    groups = set(groups)
    if age_group == "all":
        return not groups <= CHILDREN
    return age_group in groups or "all" in groups


def venue_suits_age(audiences: Iterable[str], age_group: str) -> bool:
    """A venue made for `audiences` suits a crowd of `age_group`; a mixed crowd has grown-ups in it."""
    return ("adults" if age_group == "all" else age_group) in set(audiences)


def theme_matches(theme: Theme, preference: str) -> bool:
    """True when a preference names this theme (a keyword, its slug or its name)."""
    asked = frozenset(preference.lower().split())
    names = _theme_name_words(theme.slug, theme.name, tuple(theme.keywords))
    return bool(asked) and any(asked <= words or words <= asked for words in names)


@functools.lru_cache(maxsize=4096)
def _theme_name_words(slug: str, name: str, keywords: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    """The words of each name a theme answers to (matching runs for every theme and preference of a plan)."""
    names = [keyword.lower() for keyword in keywords] + [slug.replace("-", " "), name.lower()]
    return tuple(frozenset(name.split()) for name in names)


def occasion_for(party_type: str, known: Iterable[str]) -> str:
    """The occasion themes are matched on: the party type, or "general" when no theme names it."""
    return party_type if party_type in set(known) else "general"


def venue_problem(venue: Venue, brief: Brief) -> str | None:
    """Why a venue cannot host this party, or None: the city, the size and the crowd."""
    guests = brief.guest_count
    if venue.city.slug != brief.city:
        return "in another city"
    if venue.capacity < guests:
        return f"holds only {venue.capacity}"
    if venue.min_guests > guests:
        return f"needs at least {venue.min_guests} guests"
    if venue.capacity > max_capacity(guests):
        return f"far too big ({venue.capacity} places for {guests})"
    if not venue_suits_age(venue.audiences, brief.age_group):
        return f"not a venue for {brief.age_group}"
    return None


def theme_problem(theme: Theme, brief: Brief, *, occasion: str) -> str | None:
    """Why a theme does not suit this party, or None: the age group and the occasion."""
    if any(theme_matches(theme, preference) for preference in brief.theme_preferences):
        return None
    if not suits_age(theme.age_groups, brief.age_group):
        return f"made for {', '.join(theme.age_groups)}"
    if occasion not in theme.party_types:
        return f"not made for {occasion.replace('_', ' ')} parties"
    return None


@dataclass(frozen=True)
class CakeOrder:
    """How many of one cake serve the party, and what they cost."""

    quantity: int
    servings: int
    cost: float


def cake_order(cake: Cake, guests: int) -> CakeOrder | None:
    """The smallest order of `cake` that serves every guest (several cakes for a big party), or None
    when even MAX_CAKES_PER_ORDER of them are not enough."""
    quantity = max(1, math.ceil(guests / cake.max_servings))
    if quantity > MAX_CAKES_PER_ORDER:
        return None
    servings = max(guests, cake.min_servings * quantity)
    return CakeOrder(quantity, servings, round(float(cake.price_per_serving) * servings, 2))


def cake_problem(cake: Cake, brief: Brief, *, days_left: int | None) -> str | None:
    """Why a cake cannot be ordered for this party, or None: size, diet, lead time, audience."""
    if cake.bakery.city.slug != brief.city:
        return "in another city"
    if cake_order(cake, brief.guest_count) is None:
        return "cannot serve that many"
    missing = set(brief.dietary_needs) - set(cake.dietary)
    if missing:
        return f"not {', '.join(sorted(missing))}"
    if days_left is not None and cake.lead_time_days > days_left:
        return f"needs {cake.lead_time_days} days"
    asked = {preference.lower() for preference in brief.theme_preferences}
    if brief.age_group != "kids" and "kids" in cake.style_tags and not asked & set(cake.style_tags):
        return "a children's cake"
    return None


def options_constrained(
    category: str, options: list[dict[str, Any]], constraints: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """A category's options under a plan's pins and exclusions: never an excluded one, and only the
    pinned one when one is pinned and still on offer (see `pin_unmet`)."""
    excluded = set(constraints.get("exclude", {}).get(category, ()))
    kept = [option for option in options if option.get("id") not in excluded]
    pinned = constraints.get("pin", {}).get(category)
    return [option for option in kept if option.get("id") == pinned] or kept if pinned is not None else kept


def pin_unmet(category: str, options: list[dict[str, Any]], constraints: Mapping[str, Any]) -> bool:
    """True when the category has a pin that none of `options` (already constrained) honours."""
    pinned = constraints.get("pin", {}).get(category)
    return pinned is not None and all(option.get("id") != pinned for option in options)

"""Age group: explicit phrases ("adults only"), then an age ("turns 7", "her 40th"), then words about
the guests ("25 kids"); several groups of guests make a mixed crowd."""

from __future__ import annotations

from .rules import AgeRules
from .text import labels_in, one_label

BIRTHDAY = "birthday"


def age_group_in(text: str, rules: AgeRules, party_type: str) -> str | None:
    """The age group the request implies, or None. A bare ordinal is an age only at a birthday."""
    explicit = labels_in(text, rules.explicit)
    if explicit:
        return explicit[0]
    patterns = rules.age_patterns + (rules.birthday_age_patterns if party_type == BIRTHDAY else ())
    ages = sorted((match.start(), int(match.group("age"))) for pattern in patterns for match in pattern.finditer(text))
    band = rules.band_for(ages[0][1]) if ages else None
    return band or one_label(labels_in(text, rules.keywords), rules.mixed)

"""City: a catalog city named by its slug, name or aliases; a place the catalog lacks is reported."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .brief import CityRef
from .rules import CityRules
from .text import alternation, key


class CityIndex:
    """The known cities, looked up by slug, name or alias."""

    def __init__(self, cities: Iterable[CityRef], extra_aliases: Mapping[str, tuple[str, ...]]) -> None:
        self._slugs: dict[str, str] = {}
        self._names: dict[str, str] = {}
        spellings = []
        for city in cities:
            self._names.setdefault(city.slug, city.name)
            for spelling in (city.slug, city.name, *city.aliases, *extra_aliases.get(city.slug, ())):
                if isinstance(spelling, str) and key(spelling):
                    self._slugs.setdefault(key(spelling), city.slug)
                    spellings.append(spelling)
        self._pattern = re.compile(alternation(spellings, bounded=True), re.IGNORECASE) if spellings else None

    def name_of(self, slug: str | None) -> str | None:
        """The display name of a known city."""
        return self._names.get(slug, slug) if slug else None

    def lookup(self, value: Any) -> str | None:
        """The slug a structured city value names."""
        return self._slugs.get(key(value)) if isinstance(value, str) else None

    def find(self, text: str, elsewhere: re.Pattern[str] | None = None) -> str | None:
        """The slug of the first known city mentioned in `text`, preferring one that `elsewhere` (a
        pattern for the words before it, e.g. "moving to") does not mark as some other place."""
        matches = list(self._pattern.finditer(text)) if self._pattern else []
        here = [match for match in matches if not (elsewhere and elsewhere.search(text[: match.start()]))]
        chosen = (here or matches or [None])[0]
        return self._slugs.get(key(chosen.group())) if chosen else None


def unknown_place_in(text: str, rules: CityRules, other_words: Sequence[re.Pattern[str]] = ()) -> str | None:
    """The first place name in `text` (as written, with its capitals) that is neither a known non-place
    word nor matched by one of `other_words` (the rules' other vocabularies: "Wedding" is no place)."""
    places = sorted(
        (match.start("place"), match.group("place").strip(" .'-"))
        for pattern in rules.place_patterns
        for match in pattern.finditer(text)
    )
    for _, place in places:
        words = place.split()
        if not words or key(place) in rules.not_places or key(words[0]) in rules.not_places:
            continue
        if not any(pattern.search(place.lower()) for pattern in other_words):
            return place
    return None

"""Guest count: head counts in the request ("40ish people", "112 RSVPs", "20 adults and 8 kids"),
a stated total winning over its parts ("15 kids plus parents, about 30 total")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rules import GuestRules
from .text import Span, key


@dataclass(frozen=True)
class GuestFinding:
    """The head count a request states (None when it states none) and where it was read."""

    count: int | None
    spans: tuple[Span, ...]


def guest_count_in(text: str, rules: GuestRules) -> GuestFinding:
    """The stated total if there is one, else the largest head count (so "30-40 guests" gives 40)."""
    totals = [
        (_number(match.group("count")), match.span())
        for pattern in rules.total_patterns
        for match in pattern.finditer(text)
    ]
    found = [
        (_head_count(match, rules), match.span()) for pattern in rules.patterns for match in pattern.finditer(text)
    ]
    spans = tuple(span for _, span in [*totals, *found])
    if totals:
        return GuestFinding(max(count for count, _ in totals), spans)
    return GuestFinding(max((count for count, _ in found), default=None), spans)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _head_count(match: re.Match[str], rules: GuestRules) -> int:
    extra = match.groupdict().get("extra")
    if extra:
        return _number(match.group("count")) + _number(extra)
    last_word = re.findall(r"[^\W\d_]+", match.group())
    factor = rules.noun_multipliers.get(key(last_word[-1]), 1) if last_word else 1
    return _number(match.group("count")) * factor

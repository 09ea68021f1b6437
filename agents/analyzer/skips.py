"""Skips: phrases that make an agent unnecessary ("at our place", "we're bringing the cake")."""

from __future__ import annotations

from collections.abc import Sequence

from .rules import SkipRule


def skips_in(text: str, rules: Sequence[SkipRule]) -> list[SkipRule]:
    """The first matching rule for each agent the request makes unnecessary."""
    skipped: dict[str, SkipRule] = {}
    for rule in rules:
        if rule.agent not in skipped and rule.pattern.search(text):
            skipped[rule.agent] = rule
    return list(skipped.values())

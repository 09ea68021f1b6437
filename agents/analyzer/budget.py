"""Budget: amounts of money (read by price-parser) with their multipliers ("3 grand", "$3k"), ranges
("$2-3k": the upper end is the ceiling) and per-guest prices ("$50 per head")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from price_parser import Price

from .rules import BudgetRules
from .text import Span, key
from .values import whole_dollars


@dataclass(frozen=True)
class Amount:
    """One amount the request names: dollars (the upper end of a range), and how it was given."""

    dollars: int
    span: Span
    low: int | None = None
    per_head: bool = False
    currency: str | None = None


def amounts_in(text: str, rules: BudgetRules) -> list[Amount]:
    """Every amount of money in `text`, in order, each read once."""
    amounts: list[Amount] = []
    taken: list[Span] = []
    matches = sorted((match for pattern in rules.patterns for match in pattern.finditer(text)), key=lambda m: m.start())
    for match in matches:
        if any(start < match.end() and match.start() < end for start, end in taken):
            continue
        amount = _read(match, text, rules)
        if amount is not None:
            amounts.append(amount)
            taken.append(amount.span)
    return amounts


def _value(match: re.Match[str], rules: BudgetRules) -> tuple[Decimal | None, bool]:
    """The matched amount in dollars (None if unreadable), and whether it carried a multiplier."""
    price = Price.fromstring(match.group("amount"), decimal_separator=".")
    if price.amount is None:
        return None, False
    multiplier = match.groupdict().get("multiplier")
    factor = rules.multipliers.get(key(multiplier), 1) if multiplier else 1
    return price.amount * factor, bool(multiplier)


def _read(match: re.Match[str], text: str, rules: BudgetRules) -> Amount | None:
    value, multiplied = _value(match, rules)
    if value is None:
        return None
    end, low = match.end(), None
    second = rules.range_pattern.match(text, end)
    if second:
        upper, upper_multiplied = _value(second, rules)
        if upper is not None:
            if upper_multiplied and not multiplied:
                value *= rules.multipliers.get(key(second.group("multiplier")), 1)
            if upper > value:
                low, value, end = whole_dollars(value), upper, second.end()
    per_head = rules.per_head_pattern.match(text, end)
    currency = Price.fromstring(text[match.start() : end]).currency
    return Amount(
        dollars=whole_dollars(value),
        span=(match.start(), per_head.end() if per_head else end),
        low=low,
        per_head=bool(per_head),
        currency=currency,
    )

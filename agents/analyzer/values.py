"""Structured field values: each reader returns the usable value, or None when the value is unusable."""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

_PLAIN_NUMBER = re.compile(r"\d{1,15}(?:\.\d{1,6})?", re.ASCII)
_LARGEST_PLAIN_NUMBER = Decimal(10) ** 15


def whole_dollars(amount: Decimal) -> int:
    """An amount rounded half up to whole dollars."""
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def decimal_value(value: Any) -> Decimal | None:
    """A finite number from an int, float, Decimal or plain numeric text ("$2,500")."""
    number: Decimal | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, float) and math.isfinite(value):
        number = Decimal(str(value))
    elif isinstance(value, Decimal) and value.is_finite():
        number = value
    elif isinstance(value, str):
        cleaned = value.strip().replace(",", "").removeprefix("$").strip()
        number = Decimal(cleaned) if _PLAIN_NUMBER.fullmatch(cleaned) else None
    return number if number is not None and abs(number) < _LARGEST_PLAIN_NUMBER else None


def whole_number(value: Any) -> int | None:
    """A whole number, or None for fractions and non-numbers."""
    number = decimal_value(value)
    return int(number) if number is not None and number == number.to_integral_value() else None


def dollar_amount(value: Any) -> int | None:
    """An amount in whole dollars."""
    number = decimal_value(value)
    return whole_dollars(number) if number is not None else None


def date_value(value: Any) -> datetime.date | None:
    """A date from a date, a datetime or ISO text."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.strip()).date()
        except ValueError:
            return None
    return None


def choice_of(allowed: Iterable[str]) -> Callable[[Any], str | None]:
    """A reader accepting one of `allowed`, spelled with any case, spaces or hyphens ("Baby shower")."""
    options = set(allowed)

    def choice(value: Any) -> str | None:
        name = re.sub(r"[\s-]+", "_", value.strip().lower()) if isinstance(value, str) else None
        return name if name in options else None

    return choice


def entries(value: Any) -> list[Any] | None:
    """The items of a list-like value."""
    return list(value) if isinstance(value, list | tuple | set | frozenset) else None

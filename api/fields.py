"""Serializer fields that accept exactly what the OpenAPI schema says, and say exactly what they accept."""

import datetime
import re
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

# Whitespace as Python's str.strip() sees it plus what ECMAScript's \s adds (U+FEFF), spelled out so
# that every regular-expression engine reads the schema's patterns alike.
BLANK_CHARS = frozenset(chr(code) for code in range(0x3001) if chr(code).isspace()) | {"\ufeff"}
BLANK_CLASS = "".join(f"\\u{ord(char):04x}" for char in sorted(BLANK_CHARS))
# Text with at least one character that is not whitespace, and no NUL (which PostgreSQL cannot store).
NON_BLANK_TEXT = rf"^[^\x00]*[^\x00{BLANK_CLASS}][^\x00]*$"
ANY_TEXT = r"^[^\x00]*$"
NON_EMPTY_TEXT = r"^[^\x00]+$"
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class StrictCharField(serializers.CharField):
    """A string only (a number is refused, not converted); max_length applies before trimming."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if data is not serializers.empty and data is not None:
            if not isinstance(data, str):
                self.fail("invalid")
            if self.max_length is not None and len(data) > self.max_length:
                self.fail("max_length", max_length=self.max_length)
            if not self.allow_blank and self.trim_whitespace and not set(data) - BLANK_CHARS:
                self.fail("blank")
        return super().run_validation(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: not a string, a float or a boolean."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number only: not a string or a boolean."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean only: not "true", 1 or "on"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def date_window() -> tuple[datetime.date, datetime.date]:
    """The dates a party may be planned for: today up to three years ahead."""
    today = timezone.localdate()
    return today, today + datetime.timedelta(days=3 * 365)


def _two_digits(numbers: range) -> str:
    return "|".join(f"{number:02d}" for number in numbers)


def date_range_pattern(first: datetime.date, last: datetime.date) -> str:
    """A regular expression matching exactly the ISO dates from `first` to `last`."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        next_month = datetime.date(year + month // 12, month % 12 + 1, 1)
        days_in_month = (next_month - datetime.timedelta(days=1)).day
        start = first.day if (year, month) == (first.year, first.month) else 1
        end = last.day if (year, month) == (last.year, last.month) else days_in_month
        months.append(f"{year:04d}-{month:02d}-(?:{_two_digits(range(start, end + 1))})")
        year, month = next_month.year, next_month.month
    return f"^(?:{'|'.join(months)})$"


class PartyDateField(serializers.DateField):
    """An ISO date within date_window(); the schema states the window as a pattern."""

    def to_internal_value(self, value: Any) -> datetime.date:
        # The same check (Python's re, as a schema validator runs it) as the schema's pattern.
        if not isinstance(value, str) or not ISO_DATE.match(value):
            self.fail("invalid", format="YYYY-MM-DD")
        date = super().to_internal_value(value[:10])
        first, last = date_window()
        if date < first:
            raise serializers.ValidationError("The date is in the past.")
        if date > last:
            raise serializers.ValidationError("The date is more than three years away.")
        return date


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    target_class = StrictCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction: str) -> dict:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            field = self.target
            schema["pattern"] = (
                ANY_TEXT if field.allow_blank else NON_BLANK_TEXT if field.trim_whitespace else NON_EMPTY_TEXT
            )
        return schema


class PartyDateFieldSchema(OpenApiSerializerFieldExtension):
    target_class = PartyDateField

    def map_serializer_field(self, auto_schema, direction: str) -> dict:
        first, last = date_window()
        return {
            **build_basic_type(OpenApiTypes.STR),
            "pattern": date_range_pattern(first, last),
            "description": f"An ISO date from today to three years ahead ({first} to {last} when generated).",
        }

"""The analyzer's public value types: the Brief it produces, the cities it knows, the error it raises."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CityRef:
    """A city the planner serves, found in requests by its name, slug or aliases."""

    slug: str
    name: str
    aliases: tuple[str, ...] = ()


class BriefOutOfRange(ValueError):
    """A request asks for more (or less) than the planner's hard limits allow: it is refused, not clamped."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


_TUPLE_FIELDS = ("dietary_needs", "theme_preferences", "notes", "agents")


@dataclass(frozen=True)
class Brief:
    """The validated description of a party that the domain agents work from.

    `notes` tell, in plain words, every default the analyzer assumed and everything it understood
    but the planner cannot honour. `budget_per_head` is set when the budget was given per guest.
    """

    party_type: str
    guest_count: int
    date: datetime.date | None
    city: str | None
    budget: int | None
    dietary_needs: tuple[str, ...]
    theme_preferences: tuple[str, ...]
    age_group: str
    setting: str
    classified: bool
    notes: tuple[str, ...]
    agents: tuple[str, ...]
    graph: dict[str, tuple[str, ...]]
    guest_count_given: bool = True
    budget_per_head: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy: the date as an ISO string (or None), tuples as lists."""
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        data["date"] = self.date.isoformat() if self.date else None
        for name in _TUPLE_FIELDS:
            data[name] = list(data[name])
        data["graph"] = {agent: list(needs) for agent, needs in self.graph.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Brief:
        """Rebuild a Brief from `to_dict` output (fields added later take their defaults)."""
        fields = dataclasses.fields(cls)
        required = [field.name for field in fields if field.default is dataclasses.MISSING]
        missing = [name for name in required if name not in data]
        if missing:
            raise ValueError(f"Brief data lacks {', '.join(missing)}.")
        values = {field.name: data[field.name] for field in fields if field.name in data}
        date = values["date"]
        values["date"] = datetime.date.fromisoformat(date) if isinstance(date, str) else date
        for name in _TUPLE_FIELDS:
            values[name] = tuple(values[name])
        values["graph"] = {agent: tuple(needs) for agent, needs in values["graph"].items()}
        return cls(**values)

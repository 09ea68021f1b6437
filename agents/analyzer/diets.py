"""Dietary needs: the diets the request names, and those the catalog has no option for."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from .rules import LabelledPattern
from .text import clean_text, labels_in
from .values import choice_of


def diets_in(text: str, dietary: Sequence[LabelledPattern]) -> tuple[str, ...]:
    """The diets named in `text`, sorted."""
    return tuple(sorted(set(labels_in(text, dietary))))


def diets_named(entry: object, dietary: Sequence[LabelledPattern]) -> list[str]:
    """The diets a structured entry names: an option ("gluten_free") or words ("Gluten-free")."""
    if not isinstance(entry, str):
        return []
    option = choice_of(diet.label for diet in dietary)(entry)
    return [option] if option else labels_in(clean_text(entry).lower(), dietary)


def unsupported_note(needs: Sequence[str], offered: Collection[str] | None, city: str | None = None) -> str | None:
    """A note naming the needs the catalog offers nothing for, in `city` when it is known (None when all
    are offered or nothing is known of the catalog)."""
    missing = [need.replace("_", " ") for need in needs if offered is not None and need not in offered]
    if not missing:
        return None
    where = f" in {city}" if city else ""
    return (
        f"The catalog has no {', '.join(missing)} options{where} yet; the plan cannot guarantee "
        f"{'it' if len(missing) == 1 else 'them'}, so check with the caterer and bakery."
    )

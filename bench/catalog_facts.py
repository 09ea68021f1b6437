"""What the analyzer learns from the catalog, read from a file instead of the database: the bundled
catalog (as it is now) or a snapshot stored with a held-out set (as it was when the set was written)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from agents.analyzer import CatalogLimits, CityRef

CATALOG = Path(__file__).resolve().parent.parent / "planning" / "catalog" / "catalog.json"


@cache
def analyzer_options(snapshot: Path | None = None) -> dict[str, Any]:
    """Keyword arguments for InputAnalyzer: from a snapshot file when given, else from the live catalog."""
    if snapshot is not None:
        facts = json.loads(snapshot.read_text(encoding="utf-8"))
        cities = tuple(CityRef(city["slug"], city["name"], tuple(city["aliases"])) for city in facts["cities"])
        limits = CatalogLimits(dietary_options=frozenset(facts["dietary_options"]), max_guests=facts["max_guests"])
        return {"cities": cities, "catalog": limits}
    catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
    cities = tuple(CityRef(city["slug"], city["name"], tuple(city.get("aliases", ()))) for city in catalog["cities"])
    by_city: dict[str, set[str]] = {}
    for cake in catalog["cakes"]:
        by_city.setdefault(cake["city"], set()).update(cake.get("dietary", ()))
    limits = CatalogLimits(
        dietary_options=frozenset().union(*by_city.values()),
        max_guests=max(venue["capacity"] for venue in catalog["venues"]),
        dietary_by_city={city: frozenset(diets) for city, diets in by_city.items()},
    )
    return {"cities": cities, "catalog": limits}

"""What the analyzer learns from the catalog, read from the bundled catalog file instead of the database."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from agents.analyzer import CatalogLimits, CityRef

CATALOG = Path(__file__).resolve().parent.parent / "planning" / "catalog" / "catalog.json"


@cache
def analyzer_options() -> dict[str, Any]:
    """Keyword arguments for InputAnalyzer describing the bundled catalog."""
    catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
    cities = tuple(CityRef(city["slug"], city["name"], tuple(city.get("aliases", ()))) for city in catalog["cities"])
    limits = CatalogLimits(
        dietary_options=frozenset(diet for cake in catalog["cakes"] for diet in cake.get("dietary", ())),
        max_guests=max(venue["capacity"] for venue in catalog["venues"]),
    )
    return {"cities": cities, "catalog": limits}

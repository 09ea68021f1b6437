"""Validate the party-planning catalog (catalog.json) against its format and realism rules.

``validate(data)`` returns a list of problems (empty when the catalog is fine). Run as a script
to check the shipped file: ``python planning/catalog/check_dataset.py``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATALOG = Path(__file__).with_name("catalog.json")

# fmt: off
SETTINGS = frozenset({"indoor", "outdoor", "mixed"})
AMENITIES = frozenset({
    "parking", "dance_floor", "stage", "av_system", "kitchen", "bar", "garden", "kids_play_area",
    "wheelchair_access", "catering", "wifi", "pool", "fireplace", "rooftop", "waterfront", "projector",
})
PARTY_TYPES = frozenset({
    "birthday", "wedding", "anniversary", "baby_shower", "bridal_shower", "graduation", "corporate",
    "holiday", "retirement", "engagement", "reunion", "mitzvah", "quinceanera", "bachelor_party", "gender_reveal",
    "housewarming", "baptism", "memorial", "farewell", "fundraiser", "general",
})
AGE_GROUPS = frozenset({"kids", "teens", "adults", "all"})
AUDIENCES = frozenset({"kids", "teens", "adults"})
SEASONS = frozenset({"spring", "summer", "autumn", "winter"})
THEME_SETTINGS = frozenset({"indoor", "outdoor"})
DIETARY = frozenset({
    "vegan", "vegetarian", "pescatarian", "gluten_free", "nut_free", "dairy_free", "egg_free", "sugar_free",
    "kosher", "halal", "shellfish_free",
})
# Every city offers at least two cakes for each of these; kosher and halal depend on a certified bakery.
EVERY_CITY_DIETARY = DIETARY - {"kosher", "halal"}
MIN_THEMES_PER_PARTY_TYPE = 3
STYLE_TAGS = frozenset({
    "elegant", "classic", "retro", "music", "kids", "playful", "adventure", "fantasy", "tropical", "rustic",
    "floral", "modern", "spooky", "festive", "sporty", "glam", "nature", "science", "colorful", "minimalist",
})
REQUIRED_CITIES = (
    "austin", "new-york", "san-francisco", "chicago", "seattle", "denver", "miami", "boston", "nashville",
    "new-orleans", "los-angeles", "portland",
)
REQUIRED_KEYWORDS = (
    "jazz", "gatsby", "1920s", "superhero", "princess", "pirate", "dinosaur", "space", "unicorn", "mermaid",
    "tropical", "luau", "hawaiian", "western", "cowboy", "disco", "70s", "80s", "retro", "masquerade", "casino",
    "vegas", "garden", "floral", "boho", "rustic", "vintage", "hollywood", "sports", "safari", "jungle",
    "winter wonderland", "halloween", "christmas", "fiesta", "under the sea", "circus", "carnival", "wizard",
    "harry potter", "game night", "karaoke", "beach", "elegant", "black tie", "minimalist", "neon", "glow",
    "camping", "art", "science", "fairy", "construction", "racing", "lego", "mardi gras",
)
KIDS_KEYWORDS = frozenset({"superhero", "princess", "dinosaur", "pirate", "unicorn", "space", "mermaid"})

KEYS = {
    "cities": {"slug", "name", "state", "aliases", "cost_index"},
    "venues": {"name", "city", "capacity", "min_guests", "base_price", "price_per_guest", "setting", "amenities",
               "party_types", "audiences", "rating", "description"},
    "themes": {"slug", "name", "keywords", "party_types", "seasons", "settings", "age_groups",
               "decoration_base_cost", "cost_per_guest", "style_tags", "description"},
    "bakeries": {"name", "city", "rating"},
    "cakes": {"bakery", "city", "name", "flavor", "price_per_serving", "dietary", "min_servings", "max_servings",
              "lead_time_days", "style_tags", "description"},
}
# fmt: on
MINIMUM = {"cities": 12, "venues": 240, "themes": 45, "bakeries": 30, "cakes": 100}

# A venue whose name says what it is must offer the matching amenity.
NAME_AMENITIES = (
    (("Kids", "Play Café", "Play Center", "Trampoline", "Tumble Tots"), "kids_play_area"),
    (("Garden",), "garden"),
    (("Rooftop",), "rooftop"),
    (("Ballroom",), "dance_floor"),
    (("Boathouse", "Pier", "Marina"), "waterfront"),
    (("Brewing", "Beer", "Winery", "Cellars", "Wine", "Lounge", "Supper Club", "Karaoke"), "bar"),
)

Record = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """A request the catalog must be able to plan within budget."""

    label: str
    city: str
    guests: int
    limit: float
    venue_ok: Callable[[Record], bool]
    theme_ok: Callable[[Record], bool]
    cake_ok: Callable[[Record], bool]


def _is_kids_venue(venue: Record) -> bool:
    return "birthday" in venue["party_types"] and "kids_play_area" in venue["amenities"]


def _is_adult_birthday_venue(venue: Record) -> bool:
    kids_only = "kids_play_area" in venue["amenities"] and "bar" not in venue["amenities"]
    return "birthday" in venue["party_types"] and not kids_only


def _is_superhero_kids_theme(theme: Record) -> bool:
    return "superhero" in theme["keywords"] and "kids" in theme["age_groups"] and "birthday" in theme["party_types"]


def _is_jazz_adult_theme(theme: Record) -> bool:
    grown_up = bool({"adults", "all"} & set(theme["age_groups"]))
    return "jazz" in theme["keywords"] and grown_up and "birthday" in theme["party_types"]


def _is_gluten_free_kids_cake(cake: Record) -> bool:
    return "gluten_free" in cake["dietary"] and bool({"kids", "superhero"} & set(cake["style_tags"]))


def _is_vegan_cake(cake: Record) -> bool:
    return "vegan" in cake["dietary"]


SCENARIOS = (
    Scenario(
        "Birthday party for 25 kids in Austin, superhero theme, one gluten-free guest",
        "austin",
        25,
        1000,
        _is_kids_venue,
        _is_superhero_kids_theme,
        _is_gluten_free_kids_cake,
    ),
    Scenario(
        "30th birthday for 40 adults in Austin, jazz theme, one vegan guest",
        "austin",
        40,
        2500,
        _is_adult_birthday_venue,
        _is_jazz_adult_theme,
        _is_vegan_cake,
    ),
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _one_decimal(value: Any) -> bool:
    return _is_number(value) and round(value, 1) == value


def _string_list(value: Any, vocabulary: Iterable[str] | None = None) -> bool:
    if not isinstance(value, list) or not value or len(set(value)) != len(value):
        return False
    if not all(isinstance(item, str) and item for item in value):
        return False
    return vocabulary is None or set(value) <= set(vocabulary)


def _optional_list(value: Any, vocabulary: Iterable[str]) -> bool:
    return value == [] or _string_list(value, vocabulary)


def _in_range(value: Any, low: float, high: float, integer: bool = True) -> bool:
    if integer and not (isinstance(value, int) and not isinstance(value, bool)):
        return False
    return _is_number(value) and low <= value <= high


def _check_keys(section: str, records: Any, problems: list[str]) -> list[Record]:
    """Records of a section that have exactly the expected keys; problems for the rest."""
    if not isinstance(records, list):
        problems.append(f"{section}: expected a list")
        return []
    if len(records) < MINIMUM[section]:
        problems.append(f"{section}: {len(records)} records, need at least {MINIMUM[section]}")
    good = []
    for index, record in enumerate(records):
        if not isinstance(record, dict) or set(record) != KEYS[section]:
            keys = sorted(record) if isinstance(record, dict) else type(record).__name__
            problems.append(f"{section}[{index}]: keys {keys} != {sorted(KEYS[section])}")
        else:
            good.append(record)
    return good


def _check_cities(cities: list[Record], problems: list[str]) -> dict[str, float]:
    """City problems; returns slug -> cost_index."""
    index: dict[str, float] = {}
    for city in cities:
        slug = city["slug"]
        where = f"city {slug!r}"
        if not isinstance(slug, str) or not re.fullmatch(r"[a-z]+(-[a-z]+)*", slug):
            problems.append(f"{where}: bad slug")
            continue
        if slug in index:
            problems.append(f"{where}: duplicate slug")
        if not isinstance(city["name"], str) or not city["name"]:
            problems.append(f"{where}: missing name")
        if not isinstance(city["state"], str) or not re.fullmatch(r"[A-Z]{2}", city["state"]):
            problems.append(f"{where}: state must be a two-letter code")
        aliases = city["aliases"]
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a == a.lower() and a for a in aliases):
            problems.append(f"{where}: aliases must be a list of lowercase strings")
        if not _in_range(city["cost_index"], 0.8, 1.6, integer=False):
            problems.append(f"{where}: cost_index {city['cost_index']!r} outside 0.8-1.6")
            continue
        index[slug] = float(city["cost_index"])
    for slug in REQUIRED_CITIES:
        if slug not in index:
            problems.append(f"cities: missing required city {slug!r}")
    return index


def _check_venues(venues: list[Record], cities: dict[str, float], problems: list[str]) -> None:
    names: set[tuple[str, str]] = set()
    per_city: dict[str, list[Record]] = defaultdict(list)
    for venue in venues:
        where = f"venue {venue['name']!r} ({venue['city']})"
        if venue["city"] not in cities:
            problems.append(f"{where}: unknown city")
            continue
        if (venue["city"], venue["name"]) in names:
            problems.append(f"{where}: duplicate name in city")
        names.add((venue["city"], venue["name"]))
        if not isinstance(venue["name"], str) or not venue["name"]:
            problems.append(f"{where}: missing name")
        if not _in_range(venue["capacity"], 10, 500):
            problems.append(f"{where}: capacity {venue['capacity']!r} outside 10-500")
            continue
        if not _in_range(venue["min_guests"], 1, venue["capacity"] - 1):
            problems.append(f"{where}: min_guests must be at least 1 and below capacity")
        if not _in_range(venue["base_price"], 150, 15000):
            problems.append(f"{where}: base_price {venue['base_price']!r} outside 150-15000")
        if not _in_range(venue["price_per_guest"], 0, 150):
            problems.append(f"{where}: price_per_guest {venue['price_per_guest']!r} outside 0-150")
        if venue["setting"] not in SETTINGS:
            problems.append(f"{where}: unknown setting {venue['setting']!r}")
        if not _string_list(venue["amenities"], AMENITIES):
            problems.append(f"{where}: amenities must be distinct values from the vocabulary")
            continue
        if not _string_list(venue["party_types"], PARTY_TYPES):
            problems.append(f"{where}: party_types must be distinct values from the vocabulary")
            continue
        if "general" not in venue["party_types"] or len(venue["party_types"]) < 2:
            problems.append(f"{where}: party_types must list 'general' among others")
        if not _string_list(venue["audiences"], AUDIENCES):
            problems.append(f"{where}: audiences must be distinct values from {sorted(AUDIENCES)}")
            continue
        if venue["audiences"] == ["kids"] and "kids_play_area" not in venue["amenities"]:
            problems.append(f"{where}: a venue only for children needs a play area")
        if not (_in_range(venue["rating"], 3.5, 5.0, integer=False) and _one_decimal(venue["rating"])):
            problems.append(f"{where}: rating must be 3.5-5.0 with one decimal")
        if not isinstance(venue["description"], str) or len(venue["description"]) < 30:
            problems.append(f"{where}: description too short")
        for words, amenity in NAME_AMENITIES:
            if any(word in venue["name"] for word in words) and amenity not in venue["amenities"]:
                problems.append(f"{where}: name implies {amenity!r}")
        if "garden" in venue["amenities"] and "Garden" in venue["name"] and venue["setting"] == "indoor":
            problems.append(f"{where}: a garden venue cannot be indoor only")
        per_city[venue["city"]].append(venue)

    for slug, index in cities.items():
        rows = per_city.get(slug, [])
        small = [v for v in rows if v["capacity"] <= 40 and v["base_price"] + v["price_per_guest"] * 25 <= 800 * index]
        needs = (
            (len(rows) >= 15, f"{len(rows)} venues, need at least 15"),
            (sum(v["capacity"] >= 200 for v in rows) >= 2, "fewer than 2 venues for 200+ guests"),
            (len(small) >= 3, "fewer than 3 small affordable venues (<= 40 guests, <= 800 x cost index for 25)"),
            (sum(_is_kids_venue(v) for v in rows) >= 2, "fewer than 2 venues suited to kids' birthdays"),
            (sum(v["setting"] == "outdoor" for v in rows) >= 2, "fewer than 2 outdoor venues"),
            *(
                (sum(audience in v["audiences"] for v in rows) >= 3, f"fewer than 3 venues for {audience}")
                for audience in sorted(AUDIENCES)
            ),
        )
        problems.extend(f"city {slug!r}: {message}" for ok, message in needs if not ok)

    _check_scaling(
        "venue cost for 50 guests",
        [(v["city"], v["base_price"] + 50 * v["price_per_guest"]) for v in _flatten(per_city)],
        cities,
        problems,
    )


def _flatten(per_city: dict[str, list[Record]]) -> list[Record]:
    """Flatten a city -> records map."""
    return [record for rows in per_city.values() for record in rows]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _check_scaling(label: str, pairs: list[tuple[str, float]], cities: dict[str, float], problems: list[str]) -> None:
    """Prices must follow cost_index: the dearest city's median beats the cheapest city's."""
    values: dict[str, list[float]] = defaultdict(list)
    for city, value in pairs:
        values[city].append(value)
    priced = [slug for slug in cities if values.get(slug)]
    if len(priced) < 2:
        return
    cheapest = min(priced, key=lambda slug: cities[slug])
    dearest = max(priced, key=lambda slug: cities[slug])
    if cities[dearest] > cities[cheapest] and _median(values[dearest]) <= _median(values[cheapest]):
        problems.append(f"{label}: median in {dearest} is not above {cheapest}; prices must follow cost_index")


def _check_themes(themes: list[Record], problems: list[str]) -> set[str]:
    """Theme problems; returns every keyword used by a theme."""
    slugs: set[str] = set()
    keywords: set[str] = set()
    for theme in themes:
        slug = theme["slug"]
        where = f"theme {slug!r}"
        if not isinstance(slug, str) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug):
            problems.append(f"{where}: bad slug")
            continue
        if slug in slugs:
            problems.append(f"{where}: duplicate slug")
        slugs.add(slug)
        if not isinstance(theme["name"], str) or not theme["name"]:
            problems.append(f"{where}: missing name")
        own = theme["keywords"]
        if not _string_list(own) or any(word != word.lower() for word in own):
            problems.append(f"{where}: keywords must be distinct lowercase strings")
            continue
        keywords.update(own)
        if not _string_list(theme["party_types"], PARTY_TYPES):
            problems.append(f"{where}: party_types must be distinct vocabulary values")
            continue
        if not _optional_list(theme["seasons"], SEASONS) or not _optional_list(theme["settings"], THEME_SETTINGS):
            problems.append(f"{where}: seasons and settings must be distinct vocabulary values (or empty)")
            continue
        if not _string_list(theme["age_groups"], AGE_GROUPS):
            problems.append(f"{where}: age_groups must be values from the vocabulary")
            continue
        if not _in_range(theme["decoration_base_cost"], 50, 2000):
            problems.append(f"{where}: decoration_base_cost outside 50-2000")
            continue
        if not _in_range(theme["cost_per_guest"], 0, 40):
            problems.append(f"{where}: cost_per_guest outside 0-40")
            continue
        tags = theme["style_tags"]
        if not _string_list(tags) or not set(tags) <= STYLE_TAGS | set(own) or not set(tags) & STYLE_TAGS:
            problems.append(f"{where}: style_tags must come from the vocabulary or the theme's keywords")
        if not isinstance(theme["description"], str) or len(theme["description"]) < 30:
            problems.append(f"{where}: description too short")
        is_kids = "kids" in theme["age_groups"]
        if set(own) & KIDS_KEYWORDS and not is_kids:
            problems.append(f"{where}: a kids' theme keyword needs age group 'kids'")
        if is_kids:
            if "birthday" not in theme["party_types"]:
                problems.append(f"{where}: kids' themes must suit birthdays")
            if theme["decoration_base_cost"] > 250 or theme["cost_per_guest"] > 8:
                problems.append(f"{where}: kids' themes must be cheap (base <= 250, per guest <= 8)")
    for party_type in sorted(PARTY_TYPES):
        count = sum(party_type in theme["party_types"] for theme in themes if isinstance(theme["party_types"], list))
        if count < MIN_THEMES_PER_PARTY_TYPE:
            problems.append(f"themes: {count} for {party_type!r}, need at least {MIN_THEMES_PER_PARTY_TYPE}")
    missing = [word for word in REQUIRED_KEYWORDS if word not in keywords]
    if missing:
        problems.append(f"themes: keywords missing {missing}")
    return keywords


def _check_bakeries(bakeries: list[Record], cities: dict[str, float], problems: list[str]) -> set[tuple[str, str]]:
    """Bakery problems; returns the (city, name) pairs that exist."""
    known: set[tuple[str, str]] = set()
    for bakery in bakeries:
        where = f"bakery {bakery['name']!r} ({bakery['city']})"
        if bakery["city"] not in cities:
            problems.append(f"{where}: unknown city")
            continue
        if not isinstance(bakery["name"], str) or not bakery["name"]:
            problems.append(f"{where}: missing name")
        if (bakery["city"], bakery["name"]) in known:
            problems.append(f"{where}: duplicate")
        known.add((bakery["city"], bakery["name"]))
        if not (_in_range(bakery["rating"], 3.5, 5.0, integer=False) and _one_decimal(bakery["rating"])):
            problems.append(f"{where}: rating must be 3.5-5.0 with one decimal")
    counts = Counter(city for city, _ in known)
    for slug in cities:
        if not 2 <= counts[slug] <= 4:
            problems.append(f"city {slug!r}: {counts[slug]} bakeries, need 2-4")
    return known


def _check_cakes(
    cakes: list[Record],
    bakeries: set[tuple[str, str]],
    cities: dict[str, float],
    keywords: set[str],
    problems: list[str],
) -> None:
    names: set[tuple[str, str, str]] = set()
    per_city: dict[str, list[Record]] = defaultdict(list)
    for cake in cakes:
        where = f"cake {cake['name']!r} ({cake['bakery']}, {cake['city']})"
        if (cake["city"], cake["bakery"]) not in bakeries:
            problems.append(f"{where}: bakery does not exist in that city")
            continue
        key = (cake["city"], cake["bakery"], cake["name"])
        if key in names:
            problems.append(f"{where}: duplicate name at the bakery")
        names.add(key)
        if not isinstance(cake["flavor"], str) or not cake["flavor"]:
            problems.append(f"{where}: missing flavor")
        if not _in_range(cake["price_per_serving"], 2.5, 15.0, integer=False):
            problems.append(f"{where}: price_per_serving outside 2.50-15.00")
            continue
        if round(cake["price_per_serving"], 2) != cake["price_per_serving"]:
            problems.append(f"{where}: price_per_serving has more than two decimals")
        if (
            not (_in_range(cake["min_servings"], 1, 1000) and _in_range(cake["max_servings"], 2, 1000))
            or cake["min_servings"] >= cake["max_servings"]
        ):
            problems.append(f"{where}: need whole servings with min_servings < max_servings")
            continue
        if not _in_range(cake["lead_time_days"], 1, 14):
            problems.append(f"{where}: lead_time_days outside 1-14")
            continue
        dietary = cake["dietary"]
        if not isinstance(dietary, list) or len(set(dietary)) != len(dietary) or not set(dietary) <= DIETARY:
            problems.append(f"{where}: dietary must be distinct values from the vocabulary")
            continue
        if "vegan" in dietary and not {"vegetarian", "dairy_free"} <= set(dietary):
            problems.append(f"{where}: vegan cakes must also list vegetarian and dairy_free")
        tags = cake["style_tags"]
        if not _string_list(tags) or not set(tags) <= STYLE_TAGS | keywords or not set(tags) & STYLE_TAGS:
            problems.append(f"{where}: style_tags must come from the vocabulary or theme keywords")
            continue
        if not isinstance(cake["description"], str) or len(cake["description"]) < 30:
            problems.append(f"{where}: description too short")
        per_city[cake["city"]].append(cake)

    for slug, index in cities.items():
        rows = per_city.get(slug, [])
        if len(rows) < 8:
            problems.append(f"city {slug!r}: {len(rows)} cakes, need at least 8")
        for value in sorted(EVERY_CITY_DIETARY):
            if sum(value in c["dietary"] for c in rows) < 2:
                problems.append(f"city {slug!r}: fewer than 2 {value} cakes")
        if not any(
            "gluten_free" in c["dietary"]
            and {"kids", "superhero"} & set(c["style_tags"])
            and c["max_servings"] >= 40
            and c["price_per_serving"] <= 5.5 * index
            for c in rows
        ):
            problems.append(f"city {slug!r}: no affordable gluten-free kids cake for 40")
        if not any(c["lead_time_days"] <= 2 for c in rows):
            problems.append(f"city {slug!r}: no cake with a lead time of 2 days or less")

    _check_scaling(
        "cake price per serving", [(c["city"], c["price_per_serving"]) for c in _flatten(per_city)], cities, problems
    )


def cheapest_combo(data: dict[str, Any], scenario: Scenario) -> tuple[float, Record, Record, Record] | None:
    """The cheapest (total, venue, theme, cake) that fits the scenario, or None."""
    guests = scenario.guests
    venues = [
        v
        for v in data["venues"]
        if v["city"] == scenario.city and v["min_guests"] <= guests <= v["capacity"] and scenario.venue_ok(v)
    ]
    themes = [t for t in data["themes"] if scenario.theme_ok(t)]
    cakes = [
        c
        for c in data["cakes"]
        if c["city"] == scenario.city and c["min_servings"] <= guests <= c["max_servings"] and scenario.cake_ok(c)
    ]
    if not (venues and themes and cakes):
        return None
    venue = min(venues, key=lambda v: v["base_price"] + v["price_per_guest"] * guests)
    theme = min(themes, key=lambda t: t["decoration_base_cost"] + t["cost_per_guest"] * guests)
    cake = min(cakes, key=lambda c: c["price_per_serving"])
    total = (
        venue["base_price"]
        + venue["price_per_guest"] * guests
        + theme["decoration_base_cost"]
        + theme["cost_per_guest"] * guests
        + cake["price_per_serving"] * guests
    )
    return round(total, 2), venue, theme, cake


def validate(data: dict[str, Any]) -> list[str]:
    """Every problem with the catalog; an empty list when it is fine."""
    if not isinstance(data, dict):
        return ["catalog must be a JSON object"]
    problems: list[str] = []
    expected = {"version", *KEYS}
    if set(data) != expected:
        problems.append(f"top-level keys {sorted(data)} != {sorted(expected)}")
        return problems
    if data["version"] != 1:
        problems.append(f"version must be 1, not {data['version']!r}")
    records = {section: _check_keys(section, data[section], problems) for section in KEYS}
    cities = _check_cities(records["cities"], problems)
    _check_venues(records["venues"], cities, problems)
    keywords = _check_themes(records["themes"], problems)
    bakeries = _check_bakeries(records["bakeries"], cities, problems)
    _check_cakes(records["cakes"], bakeries, cities, keywords, problems)
    for scenario in SCENARIOS:
        try:
            combo = cheapest_combo(records, scenario)
        except (KeyError, TypeError, ValueError):
            problems.append(f"cannot evaluate: {scenario.label}")
            continue
        if combo is None:
            problems.append(f"cannot plan: {scenario.label}")
        elif combo[0] > scenario.limit:
            problems.append(f"over budget: {scenario.label} costs at least {combo[0]:.2f} > {scenario.limit}")
    return problems


def main() -> int:
    """Check catalog.json; print problems, counts and the sanity plans. Exit status 1 on problems."""
    data = json.loads(CATALOG.read_text(encoding="utf-8"))
    problems = validate(data)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if isinstance(data, dict):
        counts = ", ".join(f"{len(data.get(key) or [])} {key}" for key in KEYS)
        print(f"counts: {counts}")
    if not problems:
        for scenario in SCENARIOS:
            combo = cheapest_combo(data, scenario)
            if combo is not None:
                total, venue, theme, cake = combo
                print(
                    f"{scenario.label}: ${total:.2f} (limit ${scenario.limit:.0f}) -> {venue['name']} + "
                    f"{theme['name']} + {cake['name']} from {cake['bakery']}"
                )
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""The catalog, cached per process and keyed by the catalog version.

The catalog changes only when it is seeded or edited, so every process keeps one immutable snapshot of it
(frozen rows, safe to share between threads and tasks) and reloads it when the version changes. The version
lives in the `CatalogVersion` row, bumped in the same transaction as the change (`catalog_version_bump`), and
is published to Redis (`VERSION_KEY`) after that transaction commits, so a process learns it with one Redis
GET; when the key is missing (expired, flushed, Redis away) the database row answers. The key expires after
`CATALOG_VERSION_TTL` seconds, which bounds how long a lost publish can leave a process on an old catalog.

A snapshot is labelled with the version read from the database *before* its rows, so its rows are never
older than its label: a process that sees a newer version reloads, one that sees the same version may use it.
"""

import hashlib
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.db import connection
from redis.exceptions import RedisError

from partyproject.redis_client import redis_client

from .models import Bakery, Cake, CatalogVersion, City, Theme, Venue

logger = logging.getLogger(__name__)

VERSION_KEY = "partyplanner:catalog:version"

# Set the key to ARGV[1] unless it already holds a larger version; (re)arm its expiry either way.
_PUBLISH = """
local current = redis.call('GET', KEYS[1])
if (not current) or tonumber(current) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return tonumber(ARGV[1])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return tonumber(current)
"""


def _frozen(value: Any) -> Any:
    """JSON lists as tuples, so that a cached row cannot be changed through its fields."""
    if isinstance(value, list):
        return tuple(_frozen(item) if isinstance(item, list) else item for item in value)
    return value


@dataclass(frozen=True, slots=True)
class CityRow:
    id: int
    slug: str
    name: str
    state: str
    aliases: tuple[str, ...]
    cost_index: Decimal

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True, slots=True)
class VenueRow:
    id: int
    city: CityRow
    name: str
    capacity: int
    min_guests: int
    base_price: int
    price_per_guest: int
    setting: str
    amenities: tuple[str, ...]
    party_types: tuple[str, ...]
    audiences: tuple[str, ...]
    rating: Decimal
    description: str

    @property
    def pk(self) -> int:
        return self.id

    def cost_for(self, guests: int) -> int:
        """Hire cost in USD for `guests` guests (as Venue.cost_for)."""
        return self.base_price + self.price_per_guest * guests


@dataclass(frozen=True, slots=True)
class ThemeRow:
    id: int
    slug: str
    name: str
    keywords: tuple[str, ...]
    party_types: tuple[str, ...]
    seasons: tuple[str, ...]
    settings: tuple[str, ...]
    age_groups: tuple[str, ...]
    decoration_base_cost: int
    cost_per_guest: int
    style_tags: tuple[str, ...]
    description: str

    @property
    def pk(self) -> int:
        return self.id

    def cost_for(self, guests: int) -> int:
        """Decoration cost in USD for `guests` guests (as Theme.cost_for)."""
        return self.decoration_base_cost + self.cost_per_guest * guests


@dataclass(frozen=True, slots=True)
class BakeryRow:
    id: int
    city: CityRow
    name: str
    rating: Decimal

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True, slots=True)
class CakeRow:
    id: int
    bakery: BakeryRow
    name: str
    flavor: str
    price_per_serving: Decimal
    dietary: tuple[str, ...]
    min_servings: int
    max_servings: int
    lead_time_days: int
    style_tags: tuple[str, ...]
    description: str

    @property
    def pk(self) -> int:
        return self.id


def _columns(row_class: type, *, foreign: str | None = None) -> list[str]:
    """The model columns a row class holds (its foreign key as `<name>_id`)."""
    return [f"{field.name}_id" if field.name == foreign else field.name for field in fields(row_class)]


def _row(row_class: type, values: Mapping[str, Any], **related: Any) -> Any:
    return row_class(**{key: _frozen(value) for key, value in values.items() if not key.endswith("_id")}, **related)


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    """The whole catalog at one version, in the models' default order, indexed for the agents' queries."""

    version: int
    cities: tuple[CityRow, ...]
    themes: tuple[ThemeRow, ...]
    venues_by_city: Mapping[str, tuple[VenueRow, ...]]
    cakes_by_city: Mapping[str, tuple[CakeRow, ...]]

    def venues(self, *, city: str, guests: int) -> list[VenueRow]:
        """Venues in a city that can hold `guests` (as the database query did)."""
        return [v for v in self.venues_by_city.get(city, ()) if v.capacity >= guests and v.min_guests <= guests]

    def cakes(self, *, city: str, servings: int) -> list[CakeRow]:
        """Cakes from bakeries in a city of which one serves at least `servings`."""
        return [cake for cake in self.cakes_by_city.get(city, ()) if cake.max_servings >= servings]

    def cost_index(self, *, city: str) -> float | None:
        for row in self.cities:
            if row.slug == city:
                return float(row.cost_index)
        return None

    def diets_by_city(self) -> dict[str, frozenset[str]]:
        """The diets some cake offers, per city slug (cities without cakes left out)."""
        return {
            city: frozenset(diet for cake in cakes for diet in cake.dietary)
            for city, cakes in self.cakes_by_city.items()
            if cakes
        }

    def largest_venue(self) -> int | None:
        return max((venue.capacity for venues in self.venues_by_city.values() for venue in venues), default=None)


def snapshot_load() -> CatalogSnapshot:
    """Read the catalog from the database (six statements), labelled with the version read first."""
    version = version_stored()
    cities = {row["id"]: _row(CityRow, row) for row in City.objects.values(*_columns(CityRow))}
    venues: dict[str, list[VenueRow]] = {city.slug: [] for city in cities.values()}
    for row in Venue.objects.values(*_columns(VenueRow, foreign="city")):
        city = cities[row["city_id"]]
        venues[city.slug].append(_row(VenueRow, row, city=city))
    themes = tuple(_row(ThemeRow, row) for row in Theme.objects.values(*_columns(ThemeRow)))
    bakeries = {
        row["id"]: _row(BakeryRow, row, city=cities[row["city_id"]])
        for row in Bakery.objects.values(*_columns(BakeryRow, foreign="city"))
    }
    cakes: dict[str, list[CakeRow]] = {city.slug: [] for city in cities.values()}
    for row in Cake.objects.values(*_columns(CakeRow, foreign="bakery")):
        bakery = bakeries[row["bakery_id"]]
        cakes[bakery.city.slug].append(_row(CakeRow, row, bakery=bakery))
    return CatalogSnapshot(
        version=version,
        cities=tuple(cities.values()),
        themes=themes,
        venues_by_city=MappingProxyType({slug: tuple(rows) for slug, rows in venues.items()}),
        cakes_by_city=MappingProxyType({slug: tuple(rows) for slug, rows in cakes.items()}),
    )


class CatalogCache:
    """One process's snapshot. Asked for a version, it answers from the snapshot it holds if that is the
    version (or the one it was loaded for), and otherwise loads the catalog again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: tuple[CatalogSnapshot, int | None] | None = None  # (snapshot, version it also answers for)
        self.loads = 0

    def get(self, *, version: int) -> CatalogSnapshot:
        held = self._held
        if held is not None and version in (held[0].version, held[1]):
            return held[0]
        with self._lock:
            held = self._held
            if held is None or version not in (held[0].version, held[1]):
                snapshot = snapshot_load()
                self.loads += 1
                held = (snapshot, version if _may_answer_for(snapshot, version) else None)
                self._held = held
            return held[0]

    def clear(self) -> None:
        with self._lock:
            self._held = None


def _may_answer_for(snapshot: CatalogSnapshot, version: int) -> bool:
    """Whether a snapshot just read may answer for another version than its own.

    The database behind the version asked for (restored, or flushed by tests): its rows are the current ones.
    The database ahead (a commit whose publish is on its way, or was lost): its rows are newer, and committed
    unless read inside a transaction, which may have written them itself and may yet roll back.
    """
    if snapshot.version < version:
        return True
    return snapshot.version > version and not connection.in_atomic_block


_cache = CatalogCache()


def catalog_snapshot(*, version: int | None = None) -> CatalogSnapshot:
    """The catalog at `version` (default: the current version), from this process's cache."""
    return _cache.get(version=version_current() if version is None else version)


def cache_clear() -> None:
    """Forget this process's snapshot (tests; the next read loads the catalog)."""
    _cache.clear()


def version_stored() -> int:
    """The version in the database (0 before the catalog was ever changed)."""
    return CatalogVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def version_current() -> int:
    """The current catalog version: Redis's copy, or the database's when Redis has none, is away or is not
    configured (the embedded default before its Redis starts, e.g. `manage.py seed_catalog`)."""
    if not settings.REDIS_URL:
        return version_stored()
    try:
        raw = redis_client().get(VERSION_KEY)
    except RedisError:
        logger.warning("Redis is unavailable; the catalog version is read from the database.")
        return version_stored()
    return version_from(raw)


def version_from(raw: bytes | None) -> int:
    """The version from a value of VERSION_KEY read elsewhere (e.g. in a pipeline); None reads the database
    and republishes it."""
    if raw is not None:
        return int(raw)
    version = version_stored()
    # Inside a transaction the row may hold this transaction's own, uncommitted bump: never publish that.
    if not connection.in_atomic_block:
        version_publish(version=version)
    return version


def version_publish(*, version: int) -> None:
    """Tell every process about `version` (never moving Redis's copy backwards); a failure only delays them
    until the key expires."""
    if not settings.REDIS_URL:
        return
    try:
        redis_client().eval(_PUBLISH, 1, VERSION_KEY, version, settings.CATALOG_VERSION_TTL)
    except RedisError:
        logger.warning("Could not publish catalog version %s; processes see it within %ss.", version,
                       settings.CATALOG_VERSION_TTL)  # fmt: skip


def catalog_digest() -> str:
    """A digest of every catalog row, to tell whether a seed changed anything."""
    digest = hashlib.sha256()
    for model in (City, Venue, Theme, Bakery, Cake):
        rows = model.objects.order_by("pk").values_list()
        digest.update(json.dumps(list(rows), default=str, sort_keys=True).encode())
    return digest.hexdigest()

"""The catalog version, the per-process catalog cache keyed by it, and the breaker's shared state read once
per task: what bumps the version, when a process reloads, that cached rows cannot be changed, that the
cache answers as the database did, and how many Redis round trips a task makes."""

import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pybreaker
import pytest
import redis
import redis.connection
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max

from agents.analyzer.loading import DEFAULT_RULES_PATH
from agents.breaker import SnapshotRedisStorage, breaker_for, breaker_fresh
from agents.budget import BudgetAgent
from agents.errors import TransientAgentError
from agents.faults import fault_clear, fault_set
from agents.providers import CatalogProvider
from partyproject.redis_client import redis_client
from planning import catalog_cache, selectors
from planning.catalog_cache import VERSION_KEY, CatalogCache
from planning.models import Cake, CatalogVersion, City, Theme, Venue
from planning.services import catalog_seed, catalog_version_bump
from tests.unit.test_agents import context

pytestmark = pytest.mark.django_db


class RoundTrips:
    """Counts Redis round trips (a pipeline is one) and SQL statements while active."""

    def __init__(self) -> None:
        self.redis = 0
        self.sql = 0

    def __enter__(self):
        from django.db import connection

        self._send = redis.connection.AbstractConnection.send_packed_command
        counter = self

        def send(conn, command, *args, **kwargs):
            counter.redis += 1
            return counter._send(conn, command, *args, **kwargs)

        redis.connection.AbstractConnection.send_packed_command = send
        self._wrapper = connection.execute_wrapper(self._count_sql)
        self._wrapper.__enter__()
        return self

    def _count_sql(self, execute, sql, params, many, context):
        self.sql += 1
        return execute(sql, params, many, context)

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)
        redis.connection.AbstractConnection.send_packed_command = self._send


def stored_version() -> int:
    return CatalogVersion.objects.get(pk=1).version


def published_version() -> int | None:
    raw = redis_client().get(VERSION_KEY)
    return int(raw) if raw is not None else None


# --- the version --------------------------------------------------------------------------------------


def test_a_seed_bumps_the_version_only_when_it_changes_something(db):
    assert catalog_cache.version_stored() == 0
    catalog_seed()
    first = stored_version()
    assert first > 0
    catalog_seed()
    assert stored_version() == first, "an identical seed changes nothing"

    data = json.loads(catalog_cache_path().read_text())
    data["venues"][0]["base_price"] += 1
    catalog_seed(data=data)
    assert stored_version() > first


def catalog_cache_path():
    from planning.services import CATALOG_PATH

    return CATALOG_PATH


def test_saving_or_deleting_any_catalog_row_bumps_the_version(catalog):
    seen = [stored_version()]
    venue = Venue.objects.first()
    venue.name = "Renamed"
    venue.save()
    seen.append(stored_version())
    Theme.objects.first().delete()
    seen.append(stored_version())
    cake = Cake.objects.first()
    cake.price_per_serving += 1
    cake.save()
    seen.append(stored_version())
    City.objects.filter(slug="austin").get().delete()  # cascades to its venues, bakeries and cakes
    seen.append(stored_version())
    assert seen == sorted(set(seen)), "every change moved the version forward"


def test_an_admin_edit_and_an_admin_delete_bump_the_version(catalog, client):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "a-long-admin-password")
    client.force_login(admin)
    city = City.objects.get(slug="austin")
    before = stored_version()
    response = client.post(
        f"/admin/planning/city/{city.pk}/change/",
        {"slug": city.slug, "name": "Austin TX", "state": city.state, "aliases": json.dumps(city.aliases),
         "cost_index": str(city.cost_index)},
    )  # fmt: skip
    assert response.status_code == 302, response.content
    edited = stored_version()
    assert edited > before
    theme = Theme.objects.first()
    response = client.post(f"/admin/planning/theme/{theme.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert stored_version() > edited


def test_the_version_is_published_after_commit_and_never_reused_after_a_rollback(
    catalog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rolled_back = _bump_then_roll_back()
    assert callbacks == [], "a rolled-back bump publishes nothing"
    with django_capture_on_commit_callbacks(execute=True):
        version = catalog_version_bump()
    assert version > rolled_back, "a version is never handed out twice"
    assert published_version() == version
    assert selectors.catalog_version() == version


def _bump_then_roll_back() -> int:
    try:
        with transaction.atomic():
            version = catalog_version_bump()
            raise RuntimeError("roll back")
    except RuntimeError:
        return version


def test_publishing_never_moves_the_version_backwards(db):
    catalog_cache.version_publish(version=200)
    catalog_cache.version_publish(version=100)
    assert published_version() == 200
    assert 0 < redis_client().ttl(VERSION_KEY) <= 60


@pytest.mark.django_db(transaction=True)
def test_without_redis_s_copy_the_database_answers_and_republishes(catalog):
    version = stored_version()
    redis_client().delete(VERSION_KEY)
    assert selectors.catalog_version() == version
    assert published_version() == version


def test_inside_a_transaction_the_database_s_version_is_not_published(catalog):
    redis_client().delete(VERSION_KEY)
    assert selectors.catalog_version() == stored_version()
    assert published_version() is None, "it may be this transaction's own, uncommitted bump"


def test_without_redis_the_version_comes_from_the_database(catalog, monkeypatch):
    def down(*args, **kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr(redis.Redis, "get", down)
    assert selectors.catalog_version() == stored_version()


# --- the cache ----------------------------------------------------------------------------------------


def test_two_processes_each_reload_once_after_an_edit_and_see_it(catalog, django_capture_on_commit_callbacks):
    first, second = CatalogCache(), CatalogCache()
    version = selectors.catalog_version()
    old = first.get(version=version)
    assert second.get(version=version).venues(city="austin", guests=25) == old.venues(city="austin", guests=25)
    assert first.get(version=version) is old and first.loads == 1, "the same version is served from memory"

    venue = Venue.objects.get(pk=old.venues(city="austin", guests=25)[0].pk)
    with django_capture_on_commit_callbacks(execute=True):
        venue.name = "The Renamed Hall"
        venue.save()
    new_version = selectors.catalog_version()
    assert new_version > version
    for cache in (first, second):
        names = [row.name for row in cache.get(version=new_version).venues(city="austin", guests=25)]
        assert "The Renamed Hall" in names
        assert cache.loads == 2


def test_a_snapshot_is_labelled_with_the_database_s_version_so_a_rolled_back_edit_is_not_kept(catalog):
    cache = CatalogCache()
    version = selectors.catalog_version()
    try:
        with transaction.atomic():
            Venue.objects.filter(pk=Venue.objects.first().pk).update(name="Uncommitted")
            catalog_version_bump()
            uncommitted = cache.get(version=version)
            assert "Uncommitted" in {row.name for rows in uncommitted.venues_by_city.values() for row in rows}
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    after = cache.get(version=version)
    assert after is not uncommitted, "the snapshot of the rolled-back transaction is not served again"
    assert "Uncommitted" not in {row.name for rows in after.venues_by_city.values() for row in rows}


def test_a_version_ahead_of_the_database_is_served_without_reloading_every_time(catalog):
    cache = CatalogCache()
    ahead = stored_version() + 1_000  # e.g. the database was restored from a backup
    snapshot = cache.get(version=ahead)
    assert cache.get(version=ahead) is snapshot and cache.loads == 1


def test_cached_rows_cannot_be_changed_and_each_caller_gets_its_own_list(catalog):
    venues = selectors.venue_candidates(city="austin", guests=25)
    with pytest.raises(dataclasses.FrozenInstanceError):
        venues[0].name = "Mine now"
    assert isinstance(venues[0].amenities, tuple)
    venues.clear()
    assert selectors.venue_candidates(city="austin", guests=25), "the cache kept its rows"
    themes = selectors.theme_candidates()
    themes.pop()
    assert len(selectors.theme_candidates()) == len(themes) + 1


@pytest.mark.parametrize(("city", "guests"), [("austin", 25), ("chicago", 120), ("seattle", 2), ("nowhere", 10)])
def test_the_cache_answers_as_the_database_did(catalog, city, guests):
    venues = Venue.objects.filter(city__slug=city, capacity__gte=guests, min_guests__lte=guests)
    assert [row.pk for row in selectors.venue_candidates(city=city, guests=guests)] == [v.pk for v in venues]
    cakes = Cake.objects.filter(bakery__city__slug=city, max_servings__gte=guests)
    assert [row.pk for row in selectors.cake_candidates(city=city, servings=guests)] == [c.pk for c in cakes]
    for row, model in zip(selectors.venue_candidates(city=city, guests=guests), venues, strict=True):
        assert (row.cost_for(guests), row.rating, row.city.name) == (
            model.cost_for(guests),
            model.rating,
            model.city.name,
        )
        assert list(row.amenities) == model.amenities


def test_catalog_wide_answers_match_the_database(catalog):
    assert [row.pk for row in selectors.theme_candidates()] == list(Theme.objects.values_list("pk", flat=True))
    assert selectors.city_rows() == [
        (s, n, tuple(a)) for s, n, a in City.objects.values_list("slug", "name", "aliases")
    ]
    diets, largest = selectors.catalog_offer()
    expected: dict[str, set[str]] = {}
    for city, options in Cake.objects.values_list("bakery__city__slug", "dietary"):
        expected.setdefault(city, set()).update(options)
    assert diets == {city: frozenset(options) for city, options in expected.items()}
    assert largest == Venue.objects.aggregate(largest=Max("capacity"))["largest"]
    austin = City.objects.get(slug="austin")
    assert selectors.city_cost_index(city="austin") == float(austin.cost_index)
    assert selectors.city_cost_index(city="atlantis") == 1.0 and selectors.city_cost_index(city=None) == 1.0


def test_a_warm_agent_task_reads_no_sql_and_makes_one_redis_round_trip(catalog):
    catalog_cache.version_publish(version=stored_version())  # as the seed's commit would
    BudgetAgent().run(context())  # warms this process's cache and builds its breaker
    with RoundTrips() as counts:
        result = BudgetAgent().run(context(budget=60, guest_count=100, age_group="adults", dietary_needs=[]))
    assert result["remedies"], "the budget agent queried the catalog many times"
    assert (counts.sql, counts.redis) == (0, 1)


def test_the_analyzer_reads_the_catalog_with_one_redis_round_trip_and_no_sql(catalog):
    from agents.services import analyzer_build

    analyzer_build()
    with RoundTrips() as counts:
        analyzer = analyzer_build()
    assert analyzer.analyze(text="Party for 30 in Austin", fields={}).city == "austin"
    assert counts.redis == 1 and counts.sql <= 1  # the version row, while the test's transaction is open


def test_the_analyzer_is_built_once_per_catalog_version_and_rules_file(catalog, settings, tmp_path):
    from agents.services import analyzer_build

    first = analyzer_build()
    assert analyzer_build() is first
    with transaction.atomic():
        catalog_version_bump()
    assert analyzer_build() is not first, "a catalog edit: built anew"
    rules = tmp_path / "analyzer.yaml"
    rules.write_text(Path(settings.ANALYZER_RULES_PATH or DEFAULT_RULES_PATH).read_text())
    settings.ANALYZER_RULES_PATH = str(rules)
    own = analyzer_build()
    assert own.rules is not first.rules and analyzer_build() is own
    rules.write_text(rules.read_text() + "\n")
    assert analyzer_build() is not own, "the rules file changed: built anew"


def test_an_agent_task_reads_the_catalog_version_and_the_breaker_in_one_round_trip(catalog, user):
    from agents import services as orchestration
    from agents.venue import VenueAgent

    plan = orchestration.plan_create(owner=user, text="Party for 30 in Austin, $2,000")
    breaker_for("catalog.venue")  # made once per process (its shared state set up in Redis)
    catalog_cache.version_publish(version=catalog_cache.version_current())  # as after the seed's commit
    with RoundTrips() as counts:
        marker = VenueAgent().execute(plan_id=str(plan.id), task_id="t-1", attempt=1, last_attempt=True, revision=1)
    assert marker["status"] == "succeeded"
    assert counts.redis == 1, "the inputs' catalog version comes from the provider's one read"
    assert counts.sql == 2, "the claim and the run's end, one statement each"


# --- the breaker --------------------------------------------------------------------------------------


def storage_of(name: str) -> SnapshotRedisStorage:
    storage = breaker_for(name)._state_storage
    assert isinstance(storage, SnapshotRedisStorage)
    return storage


def another_process_breaker(name: str, settings) -> pybreaker.CircuitBreaker:
    """A second breaker object on the same shared state, as another worker process has."""
    storage = SnapshotRedisStorage(
        pybreaker.STATE_CLOSED, redis_client(), namespace=f"partyplanner:breaker:{name}", max_age=60
    )
    return pybreaker.CircuitBreaker(
        fail_max=settings.AGENT_BREAKER["fail_max"],
        reset_timeout=settings.AGENT_BREAKER["reset_timeout"],
        state_storage=storage,
        name=name,
    )


def failing() -> None:
    raise TransientAgentError("down")


def test_successes_write_nothing_and_a_task_s_later_calls_make_no_round_trip(catalog):
    provider = CatalogProvider("venue")
    provider.venues(city="austin", guests=25)
    with RoundTrips() as counts:
        for _ in range(5):
            provider.venues(city="austin", guests=25)
    assert counts.redis == 0
    with RoundTrips() as counts:
        CatalogProvider("venue").venues(city="austin", guests=25)
    assert counts.redis == 1, "a new task reads the shared state once, and writes nothing"
    assert redis_client().get("partyplanner:breaker:catalog.venue:pybreaker:fail_counter") == b"0"


def test_a_success_after_failures_clears_the_shared_counter(catalog):
    breaker = breaker_for("catalog.venue")
    for _ in range(2):
        with pytest.raises(TransientAgentError):
            breaker.call(failing)
    assert breaker_fresh("catalog.venue").fail_counter == 2
    CatalogProvider("venue").venues(city="austin", guests=25)
    assert breaker_fresh("catalog.venue").fail_counter == 0


def test_failures_in_two_processes_add_up_and_open_the_breaker_for_both(catalog, settings):
    here, there = breaker_for("catalog.cake"), another_process_breaker("catalog.cake", settings)
    fail_max = settings.AGENT_BREAKER["fail_max"]
    for attempt in range(fail_max - 1):
        breaker = here if attempt % 2 else there
        with pytest.raises(TransientAgentError):
            breaker.call(failing)
    with pytest.raises(pybreaker.CircuitBreakerError):
        here.call(failing)
    there._state_storage.refresh()
    assert there.current_state == here.current_state == pybreaker.STATE_OPEN
    with pytest.raises(pybreaker.CircuitBreakerError):
        CatalogProvider("cake").cakes(city="austin", servings=10)


def test_after_the_reset_timeout_one_trial_call_closes_it_everywhere(catalog, settings):
    breaker = breaker_for("catalog.theme")
    breaker.open()
    with pytest.raises(pybreaker.CircuitBreakerError):
        CatalogProvider("theme").themes()
    past = datetime.now(UTC) - timedelta(seconds=settings.AGENT_BREAKER["reset_timeout"] + 1)
    redis_client().set("partyplanner:breaker:catalog.theme:pybreaker:opened_at", int(past.timestamp()))
    assert CatalogProvider("theme").themes(), "the trial call went through"
    assert breaker_fresh("catalog.theme").current_state == pybreaker.STATE_CLOSED
    other = another_process_breaker("catalog.theme", settings)
    assert other.current_state == pybreaker.STATE_CLOSED


def test_an_operator_reset_elsewhere_reaches_the_next_task(catalog, settings):
    breaker_for("catalog.venue").open()
    assert breaker_for("catalog.venue").current_state == pybreaker.STATE_OPEN
    another_process_breaker("catalog.venue", settings).close()  # the API, in the web process
    assert CatalogProvider("venue").venues(city="austin", guests=25), "the next task reads the shared state"
    assert breaker_for("catalog.venue").current_state == pybreaker.STATE_CLOSED


def test_a_snapshot_answers_only_for_its_max_age(catalog, settings):
    storage = storage_of("catalog.budget")
    assert storage.state == pybreaker.STATE_CLOSED
    redis_client().set("partyplanner:breaker:catalog.budget:pybreaker:state", pybreaker.STATE_OPEN)
    assert storage.state == pybreaker.STATE_CLOSED, "still the snapshot"
    storage._read_at -= settings.AGENT_BREAKER["snapshot_seconds"] + 0.1
    assert storage.state == pybreaker.STATE_OPEN


def test_a_fault_set_between_tasks_reaches_the_next_task(catalog):
    CatalogProvider("venue").venues(city="austin", guests=25)
    fault_set("venue", error_rate=1.0)
    with pytest.raises(TransientAgentError):
        CatalogProvider("venue").venues(city="austin", guests=25)
    fault_clear("venue")
    assert CatalogProvider("venue").venues(city="austin", guests=25)


def test_without_redis_a_task_runs_on_the_database_s_catalog_with_a_closed_breaker(catalog, monkeypatch):
    breaker_for("catalog.venue")  # built while Redis answered
    storage_of("catalog.venue")._read_at -= 3600

    def down(self, *args, **kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr(redis.client.Pipeline, "execute", down)
    assert CatalogProvider("venue").venues(city="austin", guests=25)
    assert storage_of("catalog.venue").state == pybreaker.STATE_CLOSED


def test_a_missing_breaker_state_is_recreated_closed(catalog):
    storage = storage_of("catalog.cake")
    for key in redis_client().scan_iter(match="partyplanner:breaker:catalog.cake:*"):
        redis_client().delete(key)
    storage.refresh()
    assert storage.state == pybreaker.STATE_CLOSED
    assert redis_client().get("partyplanner:breaker:catalog.cake:pybreaker:state") == b"closed"


def test_the_snapshot_s_age_is_monotonic(catalog):
    storage = storage_of("catalog.theme")
    storage.refresh()
    assert storage._read_at <= time.monotonic()


def test_the_provider_s_other_queries_come_from_the_cache_too(catalog):
    provider = CatalogProvider("budget")
    assert "austin" in provider.cities()
    assert provider.cost_index(city="austin") == float(City.objects.get(slug="austin").cost_index)


def test_a_lost_publish_is_logged_and_harmless(db, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr(redis.Redis, "eval", down)
    catalog_cache.version_publish(version=5)
    assert "Could not publish catalog version 5" in caplog.text


def test_with_breakers_in_memory_the_provider_still_reads_faults_and_the_version(catalog, settings):
    from agents.breaker import breakers_reset

    settings.AGENT_BREAKER = {**settings.AGENT_BREAKER, "storage": "memory"}
    breakers_reset()
    assert breaker_fresh("catalog.venue").current_state == pybreaker.STATE_CLOSED
    fault_set("venue", error_rate=1.0)
    with pytest.raises(TransientAgentError):
        CatalogProvider("venue").venues(city="austin", guests=25)
    breakers_reset()


@pytest.mark.django_db(transaction=True)
def test_a_version_behind_the_database_is_served_from_the_newer_snapshot_outside_a_transaction(catalog):
    cache = CatalogCache()
    behind = stored_version() - 1  # a publish still on its way, or lost
    snapshot = cache.get(version=behind)
    assert snapshot.version == stored_version()
    assert cache.get(version=behind) is snapshot and cache.get(version=stored_version()) is snapshot
    assert cache.loads == 1


def test_without_a_configured_redis_the_database_alone_keeps_the_version(catalog, settings):
    settings.REDIS_URL = ""
    catalog_version_bump()
    catalog_cache.version_publish(version=stored_version())
    assert selectors.catalog_version() == stored_version()

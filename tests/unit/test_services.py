import pytest

from agents import services as orchestration
from agents.analyzer import BriefOutOfRange
from planning import services
from planning.models import AgentRun, Bakery, Cake, City, Plan, PlanEvent, Theme, Venue
from tests.events_helpers import without_wake_ups

pytestmark = pytest.mark.django_db

KIDS_PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"


def event_types(plan_id):
    return list(PlanEvent.objects.filter(plan_id=plan_id).order_by("seq").values_list("type", flat=True))


def test_plan_create_persists_brief_runs_and_events_and_dispatches_after_commit(
    catalog, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    assert len(without_wake_ups(callbacks)) == 1
    assert plan.status == "running" and plan.version == 3
    assert plan.brief["city"] == "austin" and plan.brief["guest_count"] == 25
    runs = {run.agent: run for run in plan.agent_runs.all()}
    assert set(runs) == {"theme", "venue", "cake", "budget"}
    assert runs["cake"].depends_on == ["theme"]
    assert all(run.status == "pending" for run in runs.values())
    assert event_types(plan.id) == ["plan.received", "plan.analyzing", "plan.running"]
    assert list(PlanEvent.objects.filter(plan=plan).values_list("seq", flat=True)) == [1, 2, 3]


def test_plan_create_beyond_the_limits_raises_and_rolls_everything_back(
    catalog, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(BriefOutOfRange) as refused:
        orchestration.plan_create(owner=user, text="wedding for 1,200 guests in Chicago")
    assert refused.value.field == "guest_count"
    assert callbacks == []
    assert not Plan.objects.exists() and not PlanEvent.objects.exists() and not AgentRun.objects.exists()


def test_the_brief_notes_a_diet_the_catalog_cannot_honour_in_that_city(catalog, user):
    offered: dict[str, set[str]] = {}
    for cake in Cake.objects.select_related("bakery__city"):
        offered.setdefault(cake.bakery.city.slug, set()).update(cake.dietary)
    lacking = City.objects.get(slug=next(slug for slug, diets in offered.items() if "kosher" not in diets))
    serving = City.objects.get(slug=next(slug for slug, diets in offered.items() if "kosher" in diets))

    text = "Bar mitzvah in {} for 80 guests, kosher"
    lacking_brief = orchestration.plan_create(owner=user, text=text.format(lacking.name)).brief
    serving_brief = orchestration.plan_create(owner=user, text=text.format(serving.name)).brief

    assert (lacking_brief["party_type"], lacking_brief["dietary_needs"]) == ("mitzvah", ["kosher"])
    assert any(f"no kosher options in {lacking.name}" in note for note in lacking_brief["notes"])
    assert not any("kosher" in note for note in serving_brief["notes"])


def test_illegal_transitions_are_refused(catalog, user):
    plan = Plan.objects.create(owner=user)
    with pytest.raises(services.IllegalTransition, match="A received plan cannot become complete"):
        services.plan_transition(plan_id=plan.id, to="complete")
    services.plan_transition(plan_id=plan.id, to="cancelled")
    for target in ("running", "analyzing", "complete", "failed"):
        with pytest.raises(services.IllegalTransition):
            services.plan_transition(plan_id=plan.id, to=target)
    assert event_types(plan.id) == ["plan.cancelled"]


def test_a_stale_version_is_refused_not_overwritten(user):
    plan = Plan.objects.create(owner=user)
    services.plan_transition(plan_id=plan.id, to="analyzing", expected_version=1)
    with pytest.raises(services.ConcurrentUpdate):
        services.plan_transition(plan_id=plan.id, to="running", expected_version=1)
    plan.refresh_from_db()
    assert (plan.status, plan.version) == ("analyzing", 2)


def test_event_sequence_has_no_gaps_even_after_a_rollback(user):
    plan = Plan.objects.create(owner=user)
    services.event_append(plan_id=plan.id, type="x.one")
    with pytest.raises(RuntimeError), services.transaction.atomic():
        services.event_append(plan_id=plan.id, type="x.lost")
        raise RuntimeError("roll back")
    services.event_append(plan_id=plan.id, type="x.two")
    assert list(PlanEvent.objects.filter(plan=plan).values_list("seq", "type")) == [(1, "x.one"), (2, "x.two")]


def wake_ups(callbacks: list) -> list[str]:
    return [callback.keywords["plan_id"] for callback in callbacks if callback.func is services.events_announce]


def test_a_transaction_announces_each_plan_once_however_many_events_it_appends(
    user, django_capture_on_commit_callbacks
):
    plan, other = Plan.objects.create(owner=user), Plan.objects.create(owner=user)
    with django_capture_on_commit_callbacks() as callbacks, services.transaction.atomic():
        for type in ("x.one", "x.two", "x.three"):
            services.event_append(plan_id=plan.id, type=type)
        services.event_append(plan_id=other.id, type="x.one")
        with services.transaction.atomic():
            services.event_append(plan_id=plan.id, type="x.nested")  # covered by the announcement outside
    assert sorted(wake_ups(callbacks)) == sorted([str(plan.id), str(other.id)])


def test_an_announcement_that_a_savepoint_could_take_back_is_not_relied_on(user, django_capture_on_commit_callbacks):
    plan = Plan.objects.create(owner=user)
    with django_capture_on_commit_callbacks() as callbacks, services.transaction.atomic():
        with pytest.raises(RuntimeError), services.transaction.atomic():
            services.event_append(plan_id=plan.id, type="x.lost")
            raise RuntimeError("roll back")
        services.event_append(plan_id=plan.id, type="x.kept")
    assert wake_ups(callbacks) == [str(plan.id)], "the rolled-back one is gone; the kept event announces itself"
    with django_capture_on_commit_callbacks() as callbacks, services.transaction.atomic():
        with services.transaction.atomic():
            services.event_append(plan_id=plan.id, type="x.inner")
        services.event_append(plan_id=plan.id, type="x.outer")
    assert wake_ups(callbacks) == [str(plan.id)] * 2, "registered in a savepoint: the outer event adds its own"


def running_plan(user, text=KIDS_PARTY):
    return orchestration.plan_create(owner=user, text=text)


def test_agent_run_lifecycle_is_idempotent(catalog, user):
    plan = running_plan(user)
    run = services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="t1")
    assert run.attempts == 1 and AgentRun.objects.get(plan=plan, agent="venue").status == "running"
    redelivered = services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="t2")
    assert redelivered.attempts == 2 and AgentRun.objects.get(plan=plan, agent="venue").task_id == "t2"
    assert services.agent_run_finish(
        plan_id=plan.id, revision=1, agent="venue", status="succeeded", result={"summary": "s"}
    )
    late = services.agent_run_finish(
        plan_id=plan.id, revision=1, agent="venue", status="failed", error="late duplicate"
    )
    assert late == "succeeded", "a late duplicate changes nothing and learns the stored outcome"
    assert services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="t3") is None
    run = AgentRun.objects.get(plan=plan, agent="venue")
    assert (run.status, run.result, run.error) == ("succeeded", {"summary": "s"}, "")
    assert run.duration_ms is not None
    venue_events = PlanEvent.objects.filter(plan=plan, agent="venue").values_list("type", flat=True)
    assert list(venue_events) == ["agent.started", "agent.started", "agent.succeeded"]


def test_finish_refuses_a_status_that_is_not_final(catalog, user):
    plan = running_plan(user)
    with pytest.raises(ValueError):
        services.agent_run_finish(plan_id=plan.id, revision=1, agent="venue", status="running")


def test_agents_do_not_start_on_a_cancelled_plan(catalog, user):
    plan = running_plan(user)
    services.plan_transition(plan_id=plan.id, to="cancelled")
    assert services.agent_run_start(plan_id=plan.id, revision=1, agent="theme", task_id="t") is None


def test_finalize_closes_unfinished_runs_and_ends_partial_once(catalog, user):
    plan = running_plan(user)
    for agent in ("theme", "cake", "budget"):
        services.agent_run_start(plan_id=plan.id, revision=1, agent=agent, task_id="t")
        services.agent_run_finish(
            plan_id=plan.id, revision=1, agent=agent, status="succeeded", result={"summary": agent, "choices": []}
        )
    finished = orchestration.plan_finalize(plan_id=plan.id)
    assert finished.status == "partial"
    assert finished.result["missing"] == ["cake", "theme", "venue"]
    assert AgentRun.objects.get(plan=plan, agent="venue").status == "failed"
    events_before = PlanEvent.objects.filter(plan=plan).count()
    assert orchestration.plan_finalize(plan_id=plan.id).status == "partial"
    assert PlanEvent.objects.filter(plan=plan).count() == events_before
    assert event_types(plan.id)[-1] == "plan.partial"


def test_finalize_and_fail_tolerate_a_missing_plan():
    missing = "00000000-0000-0000-0000-000000000000"
    assert orchestration.plan_finalize(plan_id=missing) is None
    assert services.plan_fail(plan_id=missing, error="gone") is False


def test_plan_fail_only_fails_a_plan_that_has_not_ended(catalog, user):
    plan = running_plan(user)
    assert services.plan_fail(plan_id=plan.id, error="planner crashed")
    assert not services.plan_fail(plan_id=plan.id, error="again")
    plan.refresh_from_db()
    assert (plan.status, plan.error) == ("failed", "planner crashed")


def test_catalog_seed_is_big_enough_and_idempotent(catalog):
    counts = {"cities": City, "venues": Venue, "themes": Theme, "bakeries": Bakery, "cakes": Cake}
    sizes = {kind: model.objects.count() for kind, model in counts.items()}
    assert sizes == {kind: catalog[kind] for kind in counts}
    assert sizes["cities"] >= 10 and sizes["venues"] >= 200 and sizes["themes"] >= 40 and sizes["cakes"] >= 60
    Venue.objects.filter(city__slug="austin").update(base_price=1)
    assert services.catalog_seed() == catalog
    assert {kind: model.objects.count() for kind, model in counts.items()} == sizes
    assert not Venue.objects.filter(base_price=1).exists()

"""Plan lifecycle, unit-tested with eager Celery: revisions, incremental re-planning by input digests,
edits with pins and exclusions, cancel, retry of what failed, idempotent creation, and the API's errors."""

import dataclasses
import datetime

import pytest

from agents import checks, tasks
from agents import services as orchestration
from agents.analyzer import Brief
from agents.base import AgentContext
from agents.breaker import breakers_reset
from agents.faults import fault_clear, fault_set
from agents.providers import provider_calls, provider_calls_reset
from agents.registry import agent_classes
from agents.theme import ThemeAgent
from api.models import IdempotencyKey
from planning.models import AgentRun, Plan, PlanDispatch, PlanEvent, PlanRevision
from tests.conftest import client_for, user_create

pytestmark = pytest.mark.django_db

JAZZ_PARTY = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"


@pytest.fixture(autouse=True)
def _count_provider_calls(settings):
    settings.AGENT_COUNT_PROVIDER_CALLS = True


@pytest.fixture(autouse=True)
def _fresh_publish_breaker():
    orchestration._breaker = None
    yield
    orchestration._breaker = None


@pytest.fixture
def run_all(eager_celery, django_capture_on_commit_callbacks):
    """Run whatever a call enqueues after commit (eager Celery: the chord runs inline)."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def planned(catalog, user, api, run_all):
    """A complete plan for the jazz party, made through the API; provider calls are counted from here on."""
    created = run_all(api.post, "/api/v1/plans/", {"text": JAZZ_PARTY}, format="json")
    assert created.status_code == 202, "answered before the captured publish ran"
    plan = api.get(f"/api/v1/plans/{created.json()['id']}/").json()
    assert plan["status"] == "complete", plan["result"]
    provider_calls_reset()
    return plan


def runs_of(plan_id, revision: int) -> dict[str, AgentRun]:
    return {run.agent: run for run in AgentRun.objects.filter(plan_id=plan_id, revision=revision)}


def test_changing_the_guest_count_reruns_venue_cake_and_budget_and_reuses_the_theme(planned, api, run_all):
    response = run_all(api.patch, f"/api/v1/plans/{planned['id']}/", {"guest_count": 60}, format="json")
    assert response.status_code == 202, response.json()
    change = response.json()["change"]
    assert (change["number"], change["reran"], change["reused"]) == (2, ["venue", "cake", "budget"], ["theme"])
    assert set(provider_calls()) == {"venue", "cake", "budget"}, "the reused theme called no provider"
    revised = PlanEvent.objects.get(plan_id=planned["id"], type="plan.revised").payload
    assert (revised["reran"], revised["reused"], revised["changes"]) == (
        ["venue", "cake", "budget"], ["theme"], {"fields": {"guest_count": 60}},
    )  # fmt: skip

    plan = api.get(f"/api/v1/plans/{planned['id']}/").json()
    assert (plan["status"], plan["revision"], plan["brief"]["guest_count"]) == ("complete", 2, 60)
    assert plan["version"] > planned["version"]
    runs = {run["agent"]: run for run in plan["agent_runs"]}
    assert {agent for agent, run in runs.items() if run["reused"]} == {"theme"}
    assert all(run["revision"] == 2 for run in runs.values())
    assert "60 guests" in plan["result"]["summary"]
    theme = plan["result"]["theme"]
    assert theme["cost"] == pytest.approx(theme["base_cost"] + theme["cost_per_guest"] * 60), "re-priced for 60"
    first = runs_of(planned["id"], 1)
    assert runs_of(planned["id"], 2)["theme"].reused_from == first["theme"]
    assert api.get(f"/api/v1/plans/{planned['id']}/revisions/1/").json()["result"] == planned["result"]


def test_pinning_the_venue_reruns_only_the_budget_and_the_planner(planned, api, run_all):
    chosen = planned["result"]["venue"]["id"]
    other = next(c["id"] for c in runs_of(planned["id"], 1)["venue"].result["candidates"] if c["id"] != chosen)
    response = run_all(api.patch, f"/api/v1/plans/{planned['id']}/", {"pin": {"venue": other}}, format="json")
    change = response.json()["change"]
    assert (change["reran"], change["reused"]) == (["budget"], ["cake", "theme", "venue"])
    assert set(provider_calls()) == {"budget"}
    plan = api.get(f"/api/v1/plans/{planned['id']}/").json()
    assert plan["status"] == "complete" and plan["result"]["venue"]["id"] == other
    assert plan["constraints"] == {"pin": {"venue": other}}

    lifted = run_all(api.patch, f"/api/v1/plans/{planned['id']}/", {"pin": {"venue": None}}, format="json")
    assert lifted.json()["change"]["reran"] == []  # the budget of revision 1 read exactly these inputs
    plan = api.get(f"/api/v1/plans/{planned['id']}/").json()
    assert plan["result"]["venue"]["id"] == chosen and plan["constraints"] == {}


def test_excluding_the_chosen_venue_plans_around_it(planned, api, run_all):
    chosen = planned["result"]["venue"]["id"]
    run_all(api.patch, f"/api/v1/plans/{planned['id']}/", {"exclude": {"venue": [chosen]}}, format="json")
    plan = api.get(f"/api/v1/plans/{planned['id']}/").json()
    assert plan["status"] == "complete" and plan["result"]["venue"]["id"] != chosen
    assert "venue" not in provider_calls(), "the venue's candidates were reused; the planner ruled one out"


def test_an_edit_that_changes_nothing_read_reassembles_at_once(planned, api, run_all):
    response = run_all(api.patch, f"/api/v1/plans/{planned['id']}/", {"city": "austin"}, format="json")
    assert response.json()["change"]["reran"] == [] and provider_calls() == {}
    assert PlanDispatch.objects.filter(plan_id=planned["id"], revision=2).count() == 0
    assert response.json()["status"] == "complete" and response.json()["revision"] == 2


def test_a_stale_version_is_refused_with_the_current_one(planned, api):
    url = f"/api/v1/plans/{planned['id']}/"
    stale = api.patch(url, {"budget": 4000}, format="json", HTTP_IF_MATCH=f'"{planned["version"] - 1}-3-r1"')
    assert stale.status_code == 409
    assert stale.json()["error"] | {"message": ""} == {
        "code": "stale_version", "message": "", "current_version": planned["version"],
    }  # fmt: skip
    assert api.patch(url, {"budget": 4000, "version": 1}, format="json").status_code == 409
    header_wins = api.patch(url, {"budget": 4000, "version": planned["version"]}, format="json", HTTP_IF_MATCH="1")
    assert header_wins.status_code == 409
    assert api.patch(url, {"budget": 4000}, format="json", HTTP_IF_MATCH="banana").status_code == 400
    older_etag = f'"{planned["version"] - 1}-3"'  # as ETags were before they named the rendering schema
    assert api.patch(url, {"budget": 4000}, format="json", HTTP_IF_MATCH=older_etag).status_code == 409
    assert Plan.objects.get(pk=planned["id"]).revision == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"version": 3}, {"pin": {}}, {"pin": {"stage": 1}}, {"exclude": {"venue": []}}, {"guest_count": 0},
     {"text": "a new text"}, {"pin": {"venue": "12"}}],
)  # fmt: skip
def test_bad_edits_are_400_and_change_nothing(planned, api, body):
    response = api.patch(f"/api/v1/plans/{planned['id']}/", body, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert PlanRevision.objects.filter(plan_id=planned["id"]).count() == 1


def test_only_the_owner_edits_cancels_or_retries(planned, db):
    stranger = client_for(user_create("mallory"))
    url = f"/api/v1/plans/{planned['id']}/"
    assert stranger.patch(url, {"budget": 4000}, format="json").status_code == 404
    assert stranger.post(f"{url}cancel/").status_code == 404
    assert stranger.post(f"{url}retry/").status_code == 404
    assert stranger.get(f"{url}revisions/").status_code == 404


def test_cancel_stops_a_running_plan_and_nothing_applies_afterwards(catalog, user, api, eager_celery):
    plan = orchestration.plan_create(owner=user, text=JAZZ_PARTY)  # its dispatch is never published here
    response = api.post(f"/api/v1/plans/{plan.id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert {run["status"] for run in response.json()["agent_runs"]} == {"cancelled"}

    marker = tasks.AGENT_TASKS["venue"].apply(args=(str(plan.id),), kwargs={"revision": 1}).get()
    assert marker == {"agent": "venue", "status": "cancelled"}, "a queued task skips its cancelled run"
    assert tasks.planner.apply(args=(str(plan.id),), kwargs={"revision": 1}).get() == "cancelled"
    plan.refresh_from_db()
    assert plan.status == "cancelled" and plan.result is None
    types = list(PlanEvent.objects.filter(plan=plan).values_list("type", flat=True))
    assert types[-1] == "plan.cancelled" and "agent.started" not in types
    assert provider_calls() == {}

    again = api.post(f"/api/v1/plans/{plan.id}/cancel/")
    assert again.status_code == 409 and again.json()["error"]["plan_status"] == "cancelled"
    assert api.patch(f"/api/v1/plans/{plan.id}/", {"budget": 4000}, format="json").status_code == 409


def test_a_running_agent_finishing_after_cancel_is_not_applied(catalog, user, eager_celery):
    plan = orchestration.plan_create(owner=user, text=JAZZ_PARTY)
    from planning import services

    claim = services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="t")
    assert claim is not None
    orchestration.plan_cancel(plan_id=plan.id)
    stored = services.agent_run_finish(
        plan_id=plan.id, revision=1, agent="venue", status="succeeded", result={"summary": "late"}, claim=claim
    )
    assert stored == "cancelled"
    assert AgentRun.objects.get(plan=plan, agent="venue").result is None


def test_an_edit_supersedes_a_running_revision_whose_late_tasks_do_nothing(catalog, user, api, run_all):
    plan = orchestration.plan_create(owner=user, text=JAZZ_PARTY)  # revision 1 never dispatched
    response = run_all(api.patch, f"/api/v1/plans/{plan.id}/", {"guest_count": 60}, format="json")
    assert response.json()["change"]["reran"] == ["theme", "venue", "cake", "budget"]
    assert api.get(f"/api/v1/plans/{plan.id}/").json()["status"] == "complete"
    first = PlanRevision.objects.get(plan=plan, number=1)
    assert (first.status, first.superseded) == ("cancelled", True)

    late = tasks.AGENT_TASKS["venue"].apply(args=(str(plan.id),), kwargs={"revision": 1}).get()
    assert late["status"] == "cancelled"
    assert tasks.planner.apply(args=(str(plan.id),), kwargs={"revision": 1}).get() == "complete"
    plan.refresh_from_db()
    assert plan.revision == 2 and plan.result["summary"].count("60 guests") == 1
    revised = PlanEvent.objects.get(plan=plan, type="plan.revised")
    assert revised.payload["superseded"] == 1 and revised.revision == 2


def test_retry_reruns_only_what_failed_once_the_breaker_allows(catalog, user, api, run_all):
    fault_set("venue", error_rate=1.0)
    created = run_all(api.post, "/api/v1/plans/", {"text": JAZZ_PARTY}, format="json")
    plan_id = created.json()["id"]
    assert api.get(f"/api/v1/plans/{plan_id}/").json()["status"] == "partial"
    fault_clear()
    breakers_reset()
    provider_calls_reset()

    response = run_all(api.post, f"/api/v1/plans/{plan_id}/retry/", {}, format="json")
    assert response.status_code == 202, response.json()
    change = response.json()["change"]
    assert change["reran"] == ["venue"] and change["waits_until"] is None
    assert set(provider_calls()) == {"venue"}
    plan = api.get(f"/api/v1/plans/{plan_id}/").json()
    assert plan["status"] == "complete" and plan["revision"] == 2
    revisions = api.get(f"/api/v1/plans/{plan_id}/revisions/").json()
    assert [(r["number"], r["source"], r["status"]) for r in revisions] == [
        (1, "request", "partial"), (2, "retry", "complete"),
    ]  # fmt: skip

    nothing = api.post(f"/api/v1/plans/{plan_id}/retry/")
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "conflict"


def test_a_retry_waits_for_an_open_breaker(catalog, user, run_all, settings):
    settings.AGENT_BREAKER = {**settings.AGENT_BREAKER, "fail_max": 1, "reset_timeout": 600}
    breakers_reset()
    fault_set("cake", error_rate=1.0)
    plan = run_all(orchestration.plan_create, owner=user, text=JAZZ_PARTY)
    plan.refresh_from_db()
    assert plan.status == "partial"
    outcome = run_all(orchestration.plan_retry, plan_id=plan.id)
    assert outcome.reran == ["cake"] and outcome.waits_until is not None
    dispatch = PlanDispatch.objects.get(plan=plan, revision=2)
    assert dispatch.state == "pending" and dispatch.available_at >= outcome.waits_until
    assert (Plan.objects.get(pk=plan.id).status, AgentRun.objects.get(plan=plan, revision=2, agent="cake").status) == (
        "running", "pending",
    )  # fmt: skip


def test_retry_of_a_plan_that_is_not_partial_or_failed_is_409(planned, api):
    response = api.post(f"/api/v1/plans/{planned['id']}/retry/")
    assert response.status_code == 409 and response.json()["error"]["plan_status"] == "complete"


def test_a_dependant_stops_early_when_its_rerun_upstream_produced_the_same(planned, run_all, monkeypatch):
    monkeypatch.setattr(ThemeAgent, "version", "2")  # new theme code, same results
    plan = Plan.objects.get(pk=planned["id"])
    outcome = run_all(
        orchestration.plan_revise, plan_id=plan.id, source="edit", changes={}, request_fields=plan.request_fields,
        constraints={}, brief=Brief.from_dict(plan.brief),
    )  # fmt: skip
    assert outcome.reran == ["theme", "cake"] and outcome.reused == ["budget", "venue"]
    runs = runs_of(plan.id, 2)
    assert not runs["theme"].reused and runs["cake"].reused, "cake read the same theme result: carried over"
    assert runs["cake"].input_digest == runs_of(plan.id, 1)["cake"].input_digest
    assert set(provider_calls()) == {"theme"}
    plan.refresh_from_db()
    assert plan.status == "complete" and plan.result["cake"] == planned["result"]["cake"]


def test_the_same_idempotency_key_and_body_replay_the_first_answer(catalog, user, api, run_all):
    body = {"text": JAZZ_PARTY}
    first = run_all(api.post, "/api/v1/plans/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-17")
    again = api.post("/api/v1/plans/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-17")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Plan.objects.filter(owner=user).count() == 1

    other = api.post("/api/v1/plans/", {"text": "a picnic"}, format="json", HTTP_IDEMPOTENCY_KEY="order-17")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    theirs = client_for(user_create("carol"))
    assert (
        run_all(theirs.post, "/api/v1/plans/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-17").status_code == 202
    )
    assert Plan.objects.count() == 2, "keys belong to their user"
    bad = api.post("/api/v1/plans/", body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()["error"]["fields"]


def test_an_idempotency_key_expires_and_a_refused_create_leaves_it_unused(catalog, user, api, run_all, settings):
    out_of_range = api.post("/api/v1/plans/", {"guest_count": 100000}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert out_of_range.status_code == 400 and not IdempotencyKey.objects.exists()
    run_all(api.post, "/api/v1/plans/", {"text": JAZZ_PARTY}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    IdempotencyKey.objects.update(created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    run_all(api.post, "/api/v1/plans/", {"text": JAZZ_PARTY}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert Plan.objects.filter(owner=user).count() == 2


def test_revisions_are_listed_and_read_with_their_runs(planned, api, run_all):
    run_all(api.patch, f"/api/v1/plans/{planned['id']}/", {"budget": 5000}, format="json")
    revisions = api.get(f"/api/v1/plans/{planned['id']}/revisions/").json()
    assert [(r["number"], r["source"]) for r in revisions] == [(1, "request"), (2, "edit")]
    assert revisions[1]["changes"] == {"fields": {"budget": 5000}}
    second = api.get(f"/api/v1/plans/{planned['id']}/revisions/2/").json()
    assert second["brief"]["budget"] == 5000 and {run["agent"] for run in second["runs"]} == {
        "theme", "venue", "cake", "budget",
    }  # fmt: skip
    assert api.get(f"/api/v1/plans/{planned['id']}/revisions/3/").status_code == 404
    events = api.get(f"/api/v1/plans/{planned['id']}/events/?limit=500").json()["results"]
    assert {event["revision"] for event in events} == {1, 2}
    assert [e["type"] for e in events if e["type"] == "agent.reused"] == ["agent.reused"] * len(revisions[1]["reused"])


BRIEF = {
    "party_type": "birthday", "guest_count": 40, "date": "2027-06-12", "city": "austin", "budget": 3000,
    "dietary_needs": ["vegan"], "theme_preferences": ["jazz"], "age_group": "adults", "setting": "indoor",
    "classified": True, "notes": [], "agents": ["theme", "venue", "cake", "budget"],
    "graph": {"theme": [], "venue": [], "cake": ["theme"], "budget": []},
}  # fmt: skip
OTHER_VALUES = {
    "party_type": "wedding", "guest_count": 90, "date": "2027-12-18", "city": "denver", "budget": 9000,
    "dietary_needs": ["gluten_free"], "theme_preferences": ["garden"], "age_group": "kids", "setting": "outdoor",
    "agents": ["venue", "budget"], "notes": ["a note"], "classified": False, "guest_count_given": False,
    "budget_per_head": 100,
}  # fmt: skip


@pytest.mark.parametrize("agent", ["theme", "venue", "cake", "budget"])
def test_an_agent_reads_no_brief_field_it_does_not_declare(catalog, agent):
    """The digests are sound only if `reads` is complete: changing any other field leaves the result alone."""
    agent_class = agent_classes()[agent]
    upstream = {"theme": agent_classes()["theme"]().run(context(BRIEF))} if agent == "cake" else {}
    baseline = agent_class().run(context(BRIEF, upstream))
    for name in sorted(set(OTHER_VALUES) - set(agent_class.reads)):
        changed = agent_class().run(context({**BRIEF, name: OTHER_VALUES[name]}, upstream))
        assert changed == baseline, f"{agent} reads {name} without declaring it"


def context(data, upstream=None) -> AgentContext:
    return AgentContext(plan_id="p", brief=Brief.from_dict(data), upstream=upstream or {}, attempt=1)


def test_every_brief_field_an_agent_may_read_is_covered_by_the_property_test():
    fields = {field.name for field in dataclasses.fields(Brief)} - {"graph"}
    assert fields == set(OTHER_VALUES)


def test_agents_must_declare_known_reads(monkeypatch):
    assert checks.agents_declare_what_they_read(None) == []
    broken = type("Broken", (), {"reads": ("guests", "city")})
    silent = type("Silent", (), {"reads": ()})
    monkeypatch.setattr(checks, "agent_classes", lambda: {"broken": broken, "silent": silent})
    errors = checks.agents_declare_what_they_read(None)
    assert [error.id for error in errors] == ["agents.E007", "agents.E007"]
    assert "guests" in errors[0].msg and "declares none" in errors[1].msg

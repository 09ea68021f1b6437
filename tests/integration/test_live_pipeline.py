"""The pipeline on real services: PostgreSQL, Redis as broker and result backend, a prefork worker process.

No eager mode and nothing of ours is mocked: tasks are serialised, acknowledged late and counted by the
chord in Redis, and the worker writes to the test database.
"""

import time

import pytest

from agents.base import agent_policy
from agents.faults import fault_set
from planning.models import AgentRun, Plan, PlanEvent
from tests.conftest import client_for, other_sessions

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

KIDS_PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"
JAZZ_PARTY = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"


def wait_for_end(client, plan_id, timeout=60.0):
    """Poll the API until the plan has ended; fail the test if it has not within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/plans/{plan_id}/").json()
        if body["status"] in Plan.TERMINAL:
            return body
        time.sleep(0.1)
    pytest.fail(f"plan {plan_id} did not end within {timeout}s: {body['status']}")


def assert_gapless_events(plan_id):
    seqs = list(PlanEvent.objects.filter(plan_id=plan_id).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_plan_completes_with_every_agent_result_and_its_events(catalog, user, worker):
    client = client_for(user)
    created = client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json")
    assert created.status_code == 201
    plan = wait_for_end(client, created.json()["id"])

    assert plan["status"] == "complete", plan["result"]
    runs = {run["agent"]: run for run in plan["agent_runs"]}
    assert {agent: run["status"] for agent, run in runs.items()} == dict.fromkeys(
        ("theme", "venue", "cake", "budget"), "succeeded"
    )
    assert all(run["result"] and run["attempts"] == 1 for run in runs.values())
    assert runs["cake"]["started_at"] >= runs["theme"]["finished_at"], "cake waits for the theme it depends on"
    result = plan["result"]
    assert "gluten_free" in result["cake"]["dietary"]
    assert result["venue"]["city"] == "Austin"
    assert result["costs"]["within_budget"] is True and result["costs"]["total"] <= 1200
    assert_gapless_events(plan["id"])
    types = list(PlanEvent.objects.filter(plan_id=plan["id"]).values_list("type", flat=True))
    assert types[:3] == ["plan.received", "plan.analyzing", "plan.running"]
    assert types.count("agent.succeeded") == 4 and types[-1] == "plan.complete"


def test_several_plans_at_once_each_complete_exactly_once(catalog, user, worker):
    client = client_for(user)
    ids = [client.post("/api/v1/plans/", {"text": text}, format="json").json()["id"] for text in [JAZZ_PARTY] * 6]
    ends = [wait_for_end(client, plan_id) for plan_id in ids]
    assert {plan["status"] for plan in ends} == {"complete"}
    for plan_id in ids:
        assert PlanEvent.objects.filter(plan_id=plan_id, type="plan.complete").count() == 1
        assert_gapless_events(plan_id)
    assert AgentRun.objects.filter(plan_id__in=ids).count() == 24


def test_the_worker_keeps_its_database_connections_from_task_to_task(catalog, user, worker):
    """Celery's Django fixup would connect afresh for every task; the worker reuses its connections as
    Django does across requests (CONN_MAX_AGE), so the sessions that served one plan serve the next."""
    client = client_for(user)
    wait_for_end(client, client.post("/api/v1/plans/", {"text": JAZZ_PARTY}, format="json").json()["id"])
    first = other_sessions()  # the worker's pool processes
    wait_for_end(client, client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").json()["id"])
    assert first, "the worker's connections stay open between tasks"
    assert first & other_sessions(), "and the next plan's tasks run on them"


def test_an_agent_that_keeps_failing_gives_a_partial_plan_and_the_chord_does_not_hang(catalog, user, worker):
    fault_set("venue", error_rate=1.0)
    client = client_for(user)
    plan = wait_for_end(client, client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").json()["id"])

    assert plan["status"] == "partial"
    assert plan["result"]["missing"] == ["venue"] and plan["result"]["venue"] is None
    assert plan["result"]["cake"] and plan["result"]["theme"]
    venue = AgentRun.objects.get(plan_id=plan["id"], agent="venue")
    attempts = agent_policy("venue")["max_retries"] + 1
    assert (venue.status, venue.attempts) == ("failed", attempts)
    assert PlanEvent.objects.filter(plan_id=plan["id"], agent="venue", type="agent.retrying").count() == attempts - 1
    assert_gapless_events(plan["id"])


def test_an_agent_past_its_soft_time_limit_times_out_and_the_plan_is_partial(catalog, user, worker):
    limit = agent_policy("cake")["soft_time_limit"]
    fault_set("cake", latency_ms=int((limit + 1) * 1000))
    client = client_for(user)
    plan = wait_for_end(client, client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").json()["id"])
    cake = AgentRun.objects.get(plan_id=plan["id"], agent="cake")
    assert cake.status == "timed_out"
    assert plan["status"] == "partial" and plan["result"]["missing"] == ["cake"]


def test_ownership_holds_on_the_live_system(catalog, user, other_user, worker):
    alice, bob = client_for(user), client_for(other_user)
    plan = wait_for_end(alice, alice.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").json()["id"])
    assert bob.get(f"/api/v1/plans/{plan['id']}/").status_code == 404
    assert bob.get("/api/v1/plans/").json()["results"] == []
    assert [item["id"] for item in alice.get("/api/v1/plans/").json()["results"]] == [plan["id"]]

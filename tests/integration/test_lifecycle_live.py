"""The plan lifecycle on real services (PostgreSQL, Redis, a prefork worker process): incremental re-planning
counted in provider calls, cancel mid-run, retry of a partial plan, idempotent creation under concurrency,
and an edit racing a revision that is finishing."""

import threading
import time

import pytest
from django.db import connection

from agents.faults import fault_clear, fault_set
from agents.providers import provider_calls, provider_calls_reset
from partyproject.celery import app as celery_app
from planning.models import AgentRun, Plan, PlanEvent, PlanRevision
from tests.conftest import client_for, redis_keys_clear

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

JAZZ_PARTY = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"


def wait_until(condition, timeout: float = 60.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout}s")


def ended(client, plan_id, revision: int = 1) -> dict:
    """The plan once its `revision` has ended."""

    def read():
        body = client.get(f"/api/v1/plans/{plan_id}/").json()
        return body if body["revision"] >= revision and body["status"] in Plan.TERMINAL else None

    return wait_until(read, what=f"the end of revision {revision} of plan {plan_id}")


def worker_idle() -> bool:
    active = celery_app.control.inspect(timeout=1.0).active() or {}
    return bool(active) and not any(active.values())


def planned(client) -> dict:
    created = client.post("/api/v1/plans/", {"text": JAZZ_PARTY}, format="json")
    assert created.status_code in (201, 202), created.json()
    plan = ended(client, created.json()["id"])
    assert plan["status"] == "complete", plan["result"]
    provider_calls_reset()
    return plan


def test_a_guest_count_edit_calls_no_provider_for_the_reused_theme(catalog, user, worker):
    client = client_for(user)
    plan = planned(client)
    response = client.patch(f"/api/v1/plans/{plan['id']}/", {"guest_count": 60}, format="json")
    assert response.status_code == 202
    assert (response.json()["change"]["reran"], response.json()["change"]["reused"]) == (
        ["venue", "cake", "budget"], ["theme"],
    )  # fmt: skip
    revised = ended(client, plan["id"], revision=2)
    assert revised["status"] == "complete" and "60 guests" in revised["result"]["summary"]
    calls = provider_calls()
    assert calls.get("theme", 0) == 0 and all(calls.get(agent, 0) > 0 for agent in ("venue", "cake", "budget"))


def test_pinning_the_venue_reruns_only_the_budget(catalog, user, worker):
    client = client_for(user)
    plan = planned(client)
    runs = {run["agent"]: run for run in plan["agent_runs"]}
    other = next(c["id"] for c in runs["venue"]["result"]["candidates"] if c["id"] != plan["result"]["venue"]["id"])
    response = client.patch(f"/api/v1/plans/{plan['id']}/", {"pin": {"venue": other}}, format="json")
    assert response.json()["change"]["reran"] == ["budget"]
    revised = ended(client, plan["id"], revision=2)
    assert revised["result"]["venue"]["id"] == other
    assert set(provider_calls()) == {"budget"}


def test_cancel_mid_run_applies_nothing_afterwards_and_the_callback_does_not_uncancel(catalog, user, worker):
    client = client_for(user)
    fault_set("venue", latency_ms=2500)
    created = client.post("/api/v1/plans/", {"text": JAZZ_PARTY}, format="json").json()
    wait_until(
        lambda: AgentRun.objects.filter(plan_id=created["id"], agent="venue", status="running").exists(),
        what="the venue agent starting",
    )
    cancelled = client.post(f"/api/v1/plans/{created['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    cancelled_at = PlanEvent.objects.get(plan_id=created["id"], type="plan.cancelled").seq
    time.sleep(0.5)
    wait_until(worker_idle, timeout=30, what="the worker finishing the plan's tasks")

    plan = Plan.objects.get(pk=created["id"])
    assert plan.status == "cancelled" and plan.result is None
    assert AgentRun.objects.get(plan=plan, agent="venue").status == "cancelled"
    assert not PlanEvent.objects.filter(plan=plan, seq__gt=cancelled_at).exists(), "nothing applied after cancel"
    again = client.post(f"/api/v1/plans/{created['id']}/cancel/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_retry_of_a_partial_plan_reruns_only_the_failed_agent(catalog, user, worker):
    client = client_for(user)
    fault_set("venue", error_rate=1.0)
    created = client.post("/api/v1/plans/", {"text": JAZZ_PARTY}, format="json").json()
    assert ended(client, created["id"])["status"] == "partial"
    fault_clear()
    redis_keys_clear()  # the venue's breaker, shared with the worker through Redis, closes
    provider_calls_reset()

    response = client.post(f"/api/v1/plans/{created['id']}/retry/")
    assert response.status_code == 202 and response.json()["change"]["reran"] == ["venue"]
    retried = ended(client, created["id"], revision=2)
    assert retried["status"] == "complete" and retried["result"]["venue"]
    assert set(provider_calls()) == {"venue"}


def test_twenty_concurrent_posts_with_one_idempotency_key_create_one_plan(catalog, user, worker):
    clients = [client_for(user) for _ in range(20)]
    barrier = threading.Barrier(20)
    answers: list = []

    def post(client):
        try:
            barrier.wait()
            answers.append(
                client.post("/api/v1/plans/", {"text": JAZZ_PARTY}, format="json", HTTP_IDEMPOTENCY_KEY="party-42")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 20 and {answer.status_code for answer in answers} <= {201, 202}
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert Plan.objects.filter(owner=user).count() == 1
    assert sum(answer.get("Idempotent-Replayed") == "true" for answer in answers) == 19
    assert ended(clients[0], answers[0].json()["id"])["status"] == "complete"


def test_an_edit_racing_a_finishing_revision_wins_and_the_log_shows_both(catalog, user, worker):
    client = client_for(user)
    fault_set("cake", latency_ms=1500)
    created = client.post("/api/v1/plans/", {"text": JAZZ_PARTY}, format="json").json()
    wait_until(
        lambda: AgentRun.objects.filter(plan_id=created["id"], revision=1, agent="cake", status="running").exists(),
        what="the first revision's cake running",
    )
    response = client.patch(f"/api/v1/plans/{created['id']}/", {"guest_count": 60}, format="json")
    assert response.status_code == 202 and response.json()["revision"] == 2
    plan = ended(client, created["id"], revision=2)
    time.sleep(0.5)
    wait_until(worker_idle, timeout=30, what="the worker finishing every task")

    assert plan["status"] == "complete" and "60 guests" in plan["result"]["summary"]
    first = PlanRevision.objects.get(plan_id=created["id"], number=1)
    assert (first.status, first.superseded) == ("cancelled", True)
    assert AgentRun.objects.get(plan_id=created["id"], revision=1, agent="cake").result is None, "late, not applied"
    events = list(PlanEvent.objects.filter(plan_id=created["id"]).values_list("seq", "revision", "type"))
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    revised_at = next(seq for seq, _, kind in events if kind == "plan.revised")
    assert all(revision == 2 for seq, revision, _ in events if seq > revised_at), "no late revision-1 result"
    assert {revision for _, revision, _ in events} == {1, 2}
    assert Plan.objects.get(pk=created["id"]).status == "complete"

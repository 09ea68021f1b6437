"""Admission on real services: caps hold under concurrent admitters on PostgreSQL, and with a real worker
one user's flood does not hold back another user's plan, and every plan still ends exactly once."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings

from agents.faults import fault_set
from planning import services
from planning.models import DispatchState, Plan, PlanDispatch, PlanEvent
from tests.conftest import client_for, user_create
from tests.integration.test_concurrency import in_thread

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PARTY = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"
GRAPH = {"venue": []}


def waiting_plan(owner) -> Plan:
    """A running plan whose initial dispatch waits for admission, written directly (nothing is published)."""
    plan = Plan.objects.create(owner=owner, status="running")
    services.dispatch_enqueue(plan_id=plan.id, revision=1, graph=GRAPH, reason="initial", waiting=True)
    return plan


def admitted_running(owner=None) -> int:
    plans = Plan.objects.filter(status="running", admitted_at__isnull=False)
    return (plans.filter(owner=owner) if owner else plans).count()


def run_together(target, count: int) -> list:
    barrier = threading.Barrier(count)
    results: list = []

    def body():
        barrier.wait()
        results.append(target())

    threads = [in_thread(body) for _ in range(count)]
    for thread, errors in threads:
        thread.join()
        assert not errors, errors
    return results


@override_settings(PLAN_ADMISSION_PER_USER=2, PLAN_ADMISSION_TOTAL=0)
def test_concurrent_admitters_never_exceed_a_users_cap(db):
    owner = user_create()
    for _ in range(10):
        waiting_plan(owner)

    admitted = run_together(lambda: len(services.dispatch_admit(owner_id=owner.pk)), 8)

    assert sum(admitted) == 2
    assert admitted_running(owner) == 2
    assert PlanDispatch.objects.filter(state=DispatchState.PENDING).count() == 2


@override_settings(PLAN_ADMISSION_PER_USER=3, PLAN_ADMISSION_TOTAL=0)
def test_concurrent_new_plans_and_admitters_never_exceed_a_users_cap(db):
    owner = user_create()
    for _ in range(4):
        waiting_plan(owner)

    def new_plan() -> bool:
        plan = Plan.objects.create(owner=owner, status="analyzing")
        with transaction.atomic():
            Plan.objects.filter(pk=plan.pk).update(status="running")
            admitted = services.plan_admission_decide(plan_id=plan.id, owner_id=owner.pk)
            services.dispatch_enqueue(plan_id=plan.id, revision=1, graph=GRAPH, reason="initial", waiting=not admitted)
        return admitted

    calls = [new_plan, lambda: bool(services.dispatch_admit(owner_id=owner.pk))] * 4
    run_together(lambda: calls.pop()(), 8)

    assert admitted_running(owner) == 3
    assert PlanDispatch.objects.filter(state=DispatchState.WAITING).count() == 5


@override_settings(PLAN_ADMISSION_PER_USER=5, PLAN_ADMISSION_TOTAL=3)
def test_concurrent_admitters_never_exceed_the_global_slots(db):
    owners = [user_create() for _ in range(4)]
    for owner in owners:
        for _ in range(3):
            waiting_plan(owner)

    admitted = run_together(lambda: len(services.dispatch_admit()), 6)

    assert sum(admitted) == 3 == admitted_running()
    assert len(set(Plan.objects.filter(admitted_at__isnull=False).values_list("owner_id", flat=True))) == 3


def wait_for_end(client, plan_id, timeout=120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/plans/{plan_id}/").json()
        if body["status"] in Plan.TERMINAL:
            return body
        time.sleep(0.1)
    pytest.fail(f"plan {plan_id} did not end within {timeout}s")


def test_a_flood_does_not_hold_back_another_users_plan_and_every_plan_ends(catalog, worker):
    """The worker runs no beat: admission after each plan's end is what drains the flood."""
    cap = settings.PLAN_ADMISSION_PER_USER
    if not cap:
        pytest.skip("admission is off (PLAN_ADMISSION_PER_USER=0)")
    flooder, other = client_for(user_create()), client_for(user_create())
    fault_set("budget", latency_ms=1000)  # every plan holds its slot for a second: the flood outpaces the worker
    flood = [flooder.post("/api/v1/plans/", {"text": PARTY}, format="json") for _ in range(cap * 4)]
    assert [answer.status_code for answer in flood] == [201] * cap + [202] * cap * 3
    assert flood[-1].json()["admission"]["state"] == "waiting"

    answer = other.post("/api/v1/plans/", {"text": PARTY}, format="json")
    assert answer.status_code == 201, "admitted at once, whatever the flood"
    mine = wait_for_end(other, answer.json()["id"])
    assert mine["status"] == "complete"

    flood_ids = [answer.json()["id"] for answer in flood]
    still_waiting = Plan.objects.filter(pk__in=flood_ids, admitted_at__isnull=True).count()
    assert still_waiting > 0, "the other user's plan ended before the flood's backlog drained"

    ends = [wait_for_end(flooder, plan_id) for plan_id in flood_ids]
    assert {plan["status"] for plan in ends} == {"complete"}
    for plan_id in [*flood_ids, mine["id"]]:
        assert PlanEvent.objects.filter(plan_id=plan_id, type="plan.complete").count() == 1
        seqs = list(PlanEvent.objects.filter(plan_id=plan_id).values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
    admitted = list(
        PlanEvent.objects.filter(plan_id__in=flood_ids, type="plan.admitted").values_list("plan_id", flat=True)
    )
    assert len(admitted) == cap * 3
    connection.close()

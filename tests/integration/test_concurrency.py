"""Concurrent writers on real PostgreSQL: row locks, not luck, keep agent runs and events consistent."""

import threading
import time

import pytest
from django.db import connection, transaction

from agents import services as orchestration
from planning import services
from planning.models import AgentRun, Plan, PlanEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BRIEF = {
    "party_type": "birthday", "guest_count": 25, "date": None, "city": "austin", "budget": 1200,
    "dietary_needs": [], "theme_preferences": [], "age_group": "kids", "setting": "any", "classified": True,
    "notes": [], "agents": ["venue"], "graph": {"venue": []},
}  # fmt: skip


def running_plan(user) -> Plan:
    """A running plan with one pending venue run, written directly (no chord is enqueued)."""
    plan = Plan.objects.create(owner=user, status="running", brief=BRIEF)
    AgentRun.objects.create(plan=plan, agent="venue")
    return plan


def in_thread(target):
    """Run `target` on its own database connection; re-raise its exception in the caller."""
    errors = []

    def body():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, errors


def test_a_redelivered_claim_waits_for_the_finish_and_then_does_nothing(user):
    plan = running_plan(user)
    assert services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="first")
    finishing = threading.Event()

    def finish_slowly():
        with transaction.atomic():
            assert services.agent_run_finish(
                plan_id=plan.id, revision=1, agent="venue", status="succeeded", result={"summary": "s"}
            )
            finishing.set()
            time.sleep(0.5)

    thread, errors = in_thread(finish_slowly)
    assert finishing.wait(5)
    started = time.monotonic()
    duplicate = services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="redelivered")
    waited = time.monotonic() - started
    thread.join()

    assert not errors
    assert duplicate is None, "the claim saw the committed finish"
    assert waited >= 0.3, "the claim queued behind the finishing transaction's lock"
    run = AgentRun.objects.get(plan=plan, agent="venue")
    assert (run.status, run.attempts, run.task_id) == ("succeeded", 1, "first")
    types = list(PlanEvent.objects.filter(plan=plan).values_list("type", flat=True))
    assert types == ["agent.started", "agent.succeeded"]


def test_many_copies_of_one_task_record_one_outcome_and_a_gapless_log(user):
    plan = running_plan(user)
    barrier = threading.Barrier(8)

    def copy_of_the_task():
        barrier.wait()
        if services.agent_run_start(
            plan_id=plan.id, revision=1, agent="venue", task_id=threading.current_thread().name
        ):
            services.agent_run_finish(
                plan_id=plan.id, revision=1, agent="venue", status="succeeded", result={"summary": "s"}
            )

    workers = [in_thread(copy_of_the_task) for _ in range(8)]
    for thread, _ in workers:
        thread.join()
    assert not [error for _, errors in workers for error in errors]
    assert PlanEvent.objects.filter(plan=plan, type="agent.succeeded").count() == 1
    seqs = list(PlanEvent.objects.filter(plan=plan).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert AgentRun.objects.get(plan=plan, agent="venue").status == "succeeded"


def test_finalize_and_a_late_agent_never_interleave(user):
    plan = running_plan(user)
    services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="t")

    def late_finish():
        venue = {"id": 1, "name": "Hall", "city": "Austin", "capacity": 40, "setting": "indoor", "cost": 300.0}
        result = {"summary": "s", "choices": [venue]}
        services.agent_run_finish(plan_id=plan.id, revision=1, agent="venue", status="succeeded", result=result)

    thread, errors = in_thread(late_finish)
    final = orchestration.plan_finalize(plan_id=plan.id)
    thread.join()
    assert not errors
    types = list(PlanEvent.objects.filter(plan=plan).order_by("seq").values_list("type", flat=True))
    assert types[-1] == f"plan.{final.status}", "nothing is logged after the plan's final event"
    run = AgentRun.objects.get(plan=plan, agent="venue")
    assert (final.status, run.status) in (("complete", "succeeded"), ("failed", "failed"))


def test_the_reconciler_skips_a_plan_another_process_holds_instead_of_waiting(user):
    from datetime import timedelta

    from django.utils import timezone

    plan = running_plan(user)
    Plan.objects.filter(pk=plan.id).update(updated_at=timezone.now() - timedelta(hours=1))
    holding, release = threading.Event(), threading.Event()

    def hold_the_plan():
        with transaction.atomic():
            services.plan_lock(plan.id)
            holding.set()
            release.wait(10)

    thread, errors = in_thread(hold_the_plan)
    assert holding.wait(5)
    started = time.monotonic()
    counts = orchestration.plan_reconcile(stalled_after=timedelta(minutes=1), max_redrives=3)
    assert time.monotonic() - started < 2, "the reconciler waited for the lock"
    assert counts["stalled"] == 1 and counts["skipped"] == 1
    release.set()
    thread.join()
    assert not errors
    assert Plan.objects.get(pk=plan.id).status == "running"


def test_postgresql_bounds_every_wait(db):
    with connection.cursor() as cursor:
        settings_now = {}
        for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"):
            cursor.execute(f"SHOW {name}")
            settings_now[name] = cursor.fetchone()[0]
    assert settings_now == {
        "statement_timeout": "10s",
        "lock_timeout": "5s",
        "idle_in_transaction_session_timeout": "15s",
    }
    assert connection.get_connection_params()["keepalives"] == 1


def test_claims_and_finishes_racing_a_cancel_leave_a_gapless_log_that_matches_the_counter(user):
    """A claim or a run's end that loses to the cancel changes nothing: no number taken without its event."""
    for _ in range(5):
        plan = running_plan(user)
        barrier = threading.Barrier(7)

        def copy_of_the_task(plan_id=plan.id, barrier=barrier):
            barrier.wait()
            if services.agent_run_start(
                plan_id=plan_id, revision=1, agent="venue", task_id=threading.current_thread().name
            ):
                services.agent_run_finish(
                    plan_id=plan_id, revision=1, agent="venue", status="succeeded", result={"summary": "s"}
                )

        def cancel(plan_id=plan.id, barrier=barrier):
            barrier.wait()
            services.plan_cancel(plan_id=plan_id)

        workers = [in_thread(copy_of_the_task) for _ in range(6)] + [in_thread(cancel)]
        for thread, _ in workers:
            thread.join()
        assert not [error for _, errors in workers for error in errors]
        plan.refresh_from_db()
        events = list(PlanEvent.objects.filter(plan=plan).order_by("seq").values_list("seq", "type"))
        assert [seq for seq, _ in events] == list(range(1, plan.event_seq + 1)), "every number has its event"
        assert events[-1][1] == "plan.cancelled" and plan.status == "cancelled"
        assert AgentRun.objects.get(plan=plan, agent="venue").status in ("succeeded", "cancelled")

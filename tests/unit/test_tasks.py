"""The agents as Celery tasks, run eagerly: lifecycle, retries, failure marker, breaker, idempotency."""

import time
from types import SimpleNamespace

import pybreaker
import pytest
from django.db import connection

from agents import services as orchestration
from agents import tasks
from agents.base import agent_policy
from agents.breaker import breaker_for
from agents.faults import fault_clear, fault_set, faults_list
from partyproject.celery import app, database_connections_recycle, database_connections_release
from planning.models import AgentRun, PlanEvent

pytestmark = pytest.mark.django_db

KIDS_PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"


@pytest.fixture
def run_plan(catalog, user, eager_celery, django_capture_on_commit_callbacks):
    """Submit the kids' party and run its whole chord inline; returns the ended plan."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
        plan.refresh_from_db()
        return plan

    return run


def test_the_whole_chord_runs_and_produces_a_complete_plan(run_plan):
    plan = run_plan()
    assert plan.status == "complete", plan.result
    result = plan.result
    assert "gluten_free" in result["cake"]["dietary"]
    assert result["costs"]["within_budget"] is True
    assert {run.status for run in plan.agent_runs.all()} == {"succeeded"}
    seqs = list(PlanEvent.objects.filter(plan=plan).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    types = list(PlanEvent.objects.filter(plan=plan).values_list("type", flat=True))
    assert types.count("agent.started") == 4 and types.count("agent.succeeded") == 4
    assert types[-1] == "plan.complete"
    assert types.index("agent.succeeded", types.index("agent.started")) < types.index("plan.complete")


def test_transient_failures_retry_then_return_the_failure_marker(run_plan):
    fault_set("venue", error_rate=1.0)
    plan = run_plan()
    venue = AgentRun.objects.get(plan=plan, agent="venue")
    attempts = agent_policy("venue")["max_retries"] + 1
    assert (venue.status, venue.attempts) == ("failed", attempts)
    assert venue.error.startswith(f"Gave up after {attempts} attempts")
    assert plan.status == "partial" and plan.result["missing"] == ["venue"]
    retrying = PlanEvent.objects.filter(plan=plan, agent="venue", type="agent.retrying").count()
    assert retrying == attempts - 1


def test_a_permanent_failure_fails_fast(run_plan):
    fault_set("cake", error_rate=1.0, error="permanent")
    plan = run_plan()
    cake = AgentRun.objects.get(plan=plan, agent="cake")
    assert (cake.status, cake.attempts) == ("failed", 1)
    assert "PermanentAgentError" in cake.error
    assert plan.status == "partial"


def test_the_breaker_opens_after_repeated_failures_and_fails_fast(run_plan):
    fault_set("theme", error_rate=1.0)
    run_plan()
    plan = run_plan()
    breaker = breaker_for("catalog.theme")
    assert breaker.current_state == pybreaker.STATE_OPEN
    theme = AgentRun.objects.get(plan=plan, agent="theme")
    assert "CircuitBreakerError" in theme.error
    cake = AgentRun.objects.get(plan=plan, agent="cake")
    assert cake.status == "succeeded", "cake runs without the theme it depends on"


def test_a_redelivered_task_for_a_finished_run_does_nothing(run_plan):
    plan = run_plan()
    events = PlanEvent.objects.filter(plan=plan).count()
    assert tasks.AGENT_TASKS["venue"].apply(args=(str(plan.id),)).get() == {"agent": "venue", "status": "succeeded"}
    assert tasks.planner.apply(args=(str(plan.id),)).get() == "complete"
    assert PlanEvent.objects.filter(plan=plan).count() == events


def test_a_task_for_an_unknown_plan_is_a_quiet_no_op(db, eager_celery):
    missing = "00000000-0000-0000-0000-000000000000"
    assert tasks.AGENT_TASKS["theme"].apply(args=(missing,)).get() == {"agent": "theme", "status": "missing"}
    assert tasks.planner.apply(args=(missing,)).get() == "missing"


def test_faults_can_be_listed_and_cleared(db):
    fault_set("venue", error_rate=0.5, latency_ms=10)
    assert faults_list()["venue"] == {
        "error_rate": 0.5,
        "latency_ms": 10,
        "error": "transient",
        "ignore_soft_limit": False,
    }
    fault_clear("venue")
    assert "venue" not in faults_list()
    with pytest.raises(ValueError):
        fault_set("venue", error_rate=2)


@pytest.mark.django_db(transaction=True)
def test_around_a_task_the_connection_is_kept_until_its_max_age_like_around_a_request():
    assert app.conf.get("CELERY_DB_REUSE_MAX"), "or Celery's fixup reconnects for every task"
    queued = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    connection.ensure_connection()
    kept = connection.connection
    database_connections_recycle(sender=queued)
    assert connection.connection is kept
    connection.close_at = time.monotonic() - 1  # past CONN_MAX_AGE
    database_connections_recycle(sender=SimpleNamespace(request=SimpleNamespace(is_eager=True)))
    assert connection.connection is kept, "an eager task runs in its caller's transaction: left alone"
    database_connections_recycle(sender=queued)
    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_just_ended_a_task_healthy_skips_the_check_before_the_next(settings):
    queued = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    settings.DATABASE_HEALTH_CHECK_GRACE_SECONDS = 60
    connection.ensure_connection()
    database_connections_release(sender=queued)
    database_connections_recycle(sender=queued)
    assert connection.health_check_done, "used a moment ago: no SELECT 1 before the next task"

    connection.errors_occurred = True
    database_connections_release(sender=queued)
    connection.errors_occurred = False
    database_connections_recycle(sender=queued)
    assert not connection.health_check_done, "a task that saw an error: the next use checks the connection"

    database_connections_release(sender=queued)
    settings.DATABASE_HEALTH_CHECK_GRACE_SECONDS = 0
    database_connections_recycle(sender=queued)
    assert not connection.health_check_done, "no grace: checked before every task, as before every request"

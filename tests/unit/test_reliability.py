"""Reliability pieces, unit-tested (eager Celery where tasks run): the dispatch outbox and its sweeper, the
publish breaker, the dead-letter store and replay, the chord's rescue, the reconciler's limits, the agent
registry, the system checks and the worker's liveness file."""

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from agents import checks, registry, tasks
from agents import services as orchestration
from agents.base import Agent
from agents.faults import fault_clear, fault_set
from partyproject import liveness
from planning import services
from planning.models import AgentRun, DeadLetter, Plan, PlanDispatch, PlanEvent
from tests.conftest import client_for, user_create

pytestmark = pytest.mark.django_db

KIDS_PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"
RULES = Path(__file__).resolve().parents[2] / "agents" / "rules" / "analyzer.yaml"


@pytest.fixture(autouse=True)
def _closed_publish_breaker():
    orchestration._breaker = None
    yield
    orchestration._breaker = None


@pytest.fixture
def broker_down(monkeypatch):
    """The broker refuses every publish until the returned switch is flipped."""
    calls = []
    real = orchestration.pipeline_dispatch

    def publish(**kwargs):
        calls.append(kwargs["plan_id"])
        if state["down"]:
            raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return real(**kwargs)

    state = {"down": True, "calls": calls}
    monkeypatch.setattr(orchestration, "pipeline_dispatch", publish)
    return state


def make_due(plan_id) -> None:
    PlanDispatch.objects.filter(plan_id=plan_id).update(available_at=timezone.now() - timedelta(seconds=1))


def test_a_plan_accepted_while_the_broker_is_down_waits_in_the_outbox_and_runs_when_it_is_back(
    catalog, user, eager_celery, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    dispatch = PlanDispatch.objects.get(plan=plan)
    assert (dispatch.state, dispatch.publish_attempts) == ("pending", 1)
    assert "Connection refused" in dispatch.last_error
    failed = PlanEvent.objects.get(plan=plan, type="plan.dispatch_failed")
    assert "Connection refused" in failed.payload["error"]
    assert Plan.objects.get(pk=plan.id).dispatched_at is None

    assert orchestration.dispatch_sweep() == {"admitted": 0, "due": 0, "sent": 0, "failed": 0}, (
        "not due before its backoff"
    )
    make_due(plan.id)
    assert orchestration.dispatch_sweep() == {"admitted": 0, "due": 1, "sent": 0, "failed": 1}, (
        "the broker is still down"
    )
    assert PlanEvent.objects.filter(plan=plan, type="plan.dispatch_failed").count() == 1, "recorded once"

    broker_down["down"] = False
    make_due(plan.id)
    assert orchestration.dispatch_sweep() == {"admitted": 0, "due": 1, "sent": 1, "failed": 0}
    plan.refresh_from_db()
    assert plan.status == "complete" and plan.dispatched_at is not None
    assert PlanDispatch.objects.get(plan=plan).state == "sent"


def test_a_dispatch_published_late_is_recorded_while_its_plan_runs(
    catalog, user, monkeypatch, django_capture_on_commit_callbacks
):
    outcomes = iter([BrokerError("Connection refused"), None])

    def publish(**kwargs):
        error = next(outcomes)
        if error:
            raise error

    monkeypatch.setattr(orchestration, "pipeline_dispatch", publish)
    with django_capture_on_commit_callbacks(execute=True):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    make_due(plan.id)
    assert orchestration.dispatch_sweep()["sent"] == 1
    late = PlanEvent.objects.get(plan=plan, type="plan.dispatched")
    assert late.payload == {"after": 1}


def test_after_a_failed_publish_new_plans_do_not_wait_on_the_broker(
    catalog, user, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = orchestration.plan_create(owner=user, text=KIDS_PARTY)
        second = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    assert broker_down["calls"] == [str(first.id)], "the open breaker kept the second request off the broker"
    assert PlanDispatch.objects.get(plan=second).last_error == orchestration.BROKER_AWAY


def test_the_sweeper_drops_the_dispatches_of_plans_that_ended(catalog, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    services.plan_fail(plan_id=plan.id, error="given up")
    make_due(plan.id)
    assert orchestration.dispatch_sweep()["due"] == 0
    assert PlanDispatch.objects.get(plan=plan).state == "cancelled"


def test_the_sweep_and_reconcile_tasks_run_one_at_a_time(catalog, db):
    with tasks.single_flight("dispatch_sweep", ttl=30) as mine:
        assert mine
        assert tasks.dispatch_sweep.apply().get() == {"skipped": 1}
    assert tasks.dispatch_sweep.apply().get() == {"admitted": 0, "due": 0, "sent": 0, "failed": 0}


def run_plan(user, capture) -> Plan:
    with capture(execute=True):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    plan.refresh_from_db()
    return plan


def test_an_agent_that_gives_up_is_dead_lettered_and_its_replay_completes_the_plan(
    catalog, user, eager_celery, django_capture_on_commit_callbacks
):
    fault_set("venue", error_rate=1.0)
    plan = run_plan(user, django_capture_on_commit_callbacks)
    assert plan.status == "partial"
    letter = DeadLetter.objects.get(plan=plan)
    assert (letter.task_name, letter.agent, letter.reason, letter.args) == (
        "agents.venue", "venue", "exhausted", [str(plan.id)],
    )  # fmt: skip
    assert letter.attempts == 4 and "TransientAgentError" in letter.traceback and "Gave up" in letter.error

    fault_clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = orchestration.dead_letter_replay(dead_letter_id=letter.pk, actor=user)
    assert outcome == "re-ran venue on the plan (revision 2)"
    plan.refresh_from_db()
    assert plan.status == "complete" and plan.result["venue"]
    types = list(PlanEvent.objects.filter(plan=plan).values_list("type", flat=True))
    assert types.count("plan.partial") == 1 and types[-1] == "plan.complete"
    redriven = PlanEvent.objects.get(plan=plan, type="plan.redriven")
    assert redriven.payload == {"agents": ["venue"], "attempt": 1, "reason": "replay"}
    theme = AgentRun.objects.get(plan=plan, revision=2, agent="theme")
    assert theme.reused_from == AgentRun.objects.get(plan=plan, revision=1, agent="theme"), "other results were kept"
    assert orchestration.dead_letter_replay(dead_letter_id=letter.pk) == "already replayed"
    letter.refresh_from_db()
    assert letter.replayed_by == user and letter.replay_outcome == outcome


def test_a_replay_on_a_plan_that_ended_complete_changes_nothing(catalog, user, eager_celery, capture_plan):
    plan = capture_plan()
    letter = services.dead_letter_record(
        task_name="agents.venue", task_id="t-1", reason="killed", error="TimeLimitExceeded", plan_id=plan.id,
        agent="venue",
    )  # fmt: skip
    assert orchestration.dead_letter_replay(dead_letter_id=letter.pk) == "nothing to do: the plan is complete"


@pytest.fixture
def capture_plan(user, django_capture_on_commit_callbacks):
    return lambda: run_plan(user, django_capture_on_commit_callbacks)


def test_a_letter_for_another_task_is_sent_again(db, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.app, "send_task", lambda name, **options: sent.append((name, options)))
    letter = services.dead_letter_record(
        task_name="agents.reconcile", task_id="", reason="killed", error="TimeLimitExceeded", args=[], kwargs={}
    )
    assert orchestration.dead_letter_replay(dead_letter_id=letter.pk) == "re-sent agents.reconcile"
    assert sent == [("agents.reconcile", {"args": [], "kwargs": {}})]


def test_a_task_celery_kills_is_dead_lettered_through_a_task(catalog, user, monkeypatch, capture_plan, eager_celery):
    plan = capture_plan()
    sent = []
    monkeypatch.setattr(tasks.app, "send_task", lambda name, **options: sent.append((name, options)))
    tasks._task_failed(
        sender=tasks.AGENT_TASKS["cake"], task_id="abc", exception=TimeoutError("Time limit (15s) exceeded"),
        args=(str(plan.id),), einfo="Traceback …",
    )  # fmt: skip
    tasks._task_failed(sender=tasks.reconcile, task_id="ignored", exception=TimeoutError(), args=())
    assert [name for name, _ in sent] == ["agents.dead_letter_record"]
    tasks.dead_letter_record.apply(kwargs=sent[0][1]["kwargs"]).get()
    tasks.dead_letter_record.apply(kwargs=sent[0][1]["kwargs"]).get()
    letter = DeadLetter.objects.get(task_id="abc")
    assert (letter.agent, letter.reason, letter.attempts, letter.plan_id) == ("cake", "killed", 1, plan.id)


def test_the_rescue_closes_the_runs_celery_stopped_and_finalizes_at_once(
    catalog, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    for agent in ("theme", "venue", "budget"):
        services.agent_run_start(plan_id=plan.id, revision=1, agent=agent, task_id="t")
        services.agent_run_finish(plan_id=plan.id, revision=1, agent=agent, status="succeeded", result={"summary": "s"})
    services.agent_run_start(plan_id=plan.id, revision=1, agent="cake", task_id="killed")
    assert tasks.plan_rescue.apply(args=(str(plan.id),)).get() == "partial"
    cake = AgentRun.objects.get(plan=plan, agent="cake")
    assert cake.status == "failed" and cake.error == orchestration.KILLED
    assert tasks.plan_rescue.apply(args=(str(plan.id),)).get() == "partial", "a second call changes nothing"
    assert PlanEvent.objects.filter(plan=plan, type="plan.partial").count() == 1


def test_the_reconciler_stops_at_its_time_limit_without_failing_a_plan(
    catalog, user, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    services.dispatch_mark_sent(dispatch=PlanDispatch.objects.get(plan=plan))
    Plan.objects.filter(pk=plan.id).update(updated_at=timezone.now() - timedelta(hours=1))

    def out_of_time(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(orchestration, "plan_redrive", out_of_time)
    counts = orchestration.plan_reconcile(stalled_after=timedelta(minutes=1), max_redrives=3)
    assert counts["stalled"] == 1 and counts["errors"] == 0
    assert Plan.objects.get(pk=plan.id).status == "running"


def test_an_agent_the_rules_name_but_nobody_registered_fails_at_once_with_the_reason(
    catalog, user, tmp_path, django_capture_on_commit_callbacks
):
    rules = yaml.safe_load(RULES.read_text())
    rules["agents"]["entertainment"] = {"depends_on": [], "always_run": True}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    with override_settings(ANALYZER_RULES_PATH=str(path)):
        errors = checks.rules_name_registered_agents(None)
        with django_capture_on_commit_callbacks(execute=False):
            plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    assert [error.id for error in errors] == ["agents.E004"] and "entertainment" in errors[0].msg
    run = AgentRun.objects.get(plan=plan, agent="entertainment")
    assert run.status == "failed" and "registered" in run.error
    assert "entertainment" not in PlanDispatch.objects.get(plan=plan).graph


def test_a_soft_limit_at_or_above_the_hard_limit_is_refused():
    with override_settings(AGENT_POLICY_OVERRIDES={"venue": {"soft_time_limit": 20, "time_limit": 20}}):
        errors = checks.soft_limit_below_hard_limit(None)
    assert [error.id for error in errors] == ["agents.E003"] and "venue" in errors[0].msg
    assert checks.soft_limit_below_hard_limit(None) == []


def test_two_agents_cannot_share_a_name():
    with pytest.raises(ImproperlyConfigured, match="Two agents are named 'venue'"):

        class AnotherVenueAgent(Agent):
            name = "venue"

            def run(self, context):
                return {}

    assert registry.agent_names() == ["budget", "cake", "theme", "venue"]


def test_dead_letters_are_listed_and_replayed_by_operators_only(catalog, user, eager_celery, capture_plan):
    fault_set("venue", error_rate=1.0)
    plan = capture_plan()
    fault_clear()
    letter = DeadLetter.objects.get(plan=plan)
    assert client_for(user).get("/api/v1/ops/dead-letters/").status_code == 403
    assert client_for(user_create("staff-only", is_staff=True)).get("/api/v1/ops/dead-letters/").status_code == 403
    operator = user_create("operator")
    operator.groups.add(Group.objects.get(name="operator"))
    staff = client_for(operator)
    listed = staff.get("/api/v1/ops/dead-letters/").json()["results"]
    assert [item["id"] for item in listed] == [letter.pk] and listed[0]["reason"] == "exhausted"
    assert client_for(user).post(f"/api/v1/ops/dead-letters/{letter.pk}/replay/").status_code == 403
    replayed = staff.post(f"/api/v1/ops/dead-letters/{letter.pk}/replay/")
    assert replayed.status_code == 200
    assert replayed.json() == {"id": letter.pk, "outcome": "re-ran venue on the plan (revision 2)"}
    assert staff.post(f"/api/v1/ops/dead-letters/{letter.pk}/replay/").json()["outcome"] == "already replayed"
    assert staff.post("/api/v1/ops/dead-letters/999999/replay/").status_code == 404


def test_operators_replay_dead_letters_from_the_admin(
    catalog, user, eager_celery, capture_plan, django_capture_on_commit_callbacks
):
    fault_set("venue", error_rate=1.0)
    plan = capture_plan()
    fault_clear()
    letter = DeadLetter.objects.get(plan=plan)
    admin = Client()
    admin.force_login(user_create("root", is_staff=True, is_superuser=True))
    page = admin.get("/admin/planning/deadletter/")
    assert page.status_code == 200 and b"agents.venue" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post(
            "/admin/planning/deadletter/", {"action": "replay", "_selected_action": [letter.pk]}, follow=True
        )
    assert b"re-ran venue on the plan (revision 2)" in answer.content
    assert Plan.objects.get(pk=plan.id).status == "complete"


def test_the_liveness_file_is_touched_and_checked(tmp_path, settings):
    path = tmp_path / "alive"
    settings.WORKER_LIVENESS_FILE = str(path)

    class Timer:
        def call_repeatedly(self, interval, function):
            self.function = function
            return self

        def cancel(self):
            self.cancelled = True

    class Consumer:
        timer = Timer()

    step = liveness.LivenessFile(Consumer())
    step.start(Consumer)
    assert liveness.main([str(path), "--max-age", "5"]) == 0
    old = time.time() - 120
    os.utime(path, (old, old))
    assert liveness.main([str(path), "--max-age", "60"]) == 1
    Consumer.timer.function()
    assert liveness.is_fresh(path, max_age=5)
    step.stop(Consumer)
    assert Consumer.timer.cancelled
    assert liveness.main([str(tmp_path / "missing")]) == 1

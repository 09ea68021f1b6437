"""The reconciler: running plans that stopped making progress are driven on from the database."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from agents import services as orchestration
from agents import tasks
from planning import services
from planning.models import AgentRun, Plan, PlanDispatch, PlanEvent

pytestmark = pytest.mark.django_db

KIDS_PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"
STALLED = timedelta(minutes=10)


def lost_plan(user):
    """A plan whose chord the broker took and then lost (e.g. wiped), now quiet for an hour."""
    plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    services.dispatch_mark_sent(dispatch=PlanDispatch.objects.get(plan=plan))
    Plan.objects.filter(pk=plan.id).update(updated_at=timezone.now() - timedelta(hours=1))
    return plan


def reconcile(capture, max_redrives=3):
    with capture(execute=True):
        return orchestration.plan_reconcile(stalled_after=STALLED, max_redrives=max_redrives)


def test_a_lost_plan_is_redriven_and_completes(catalog, user, eager_celery, django_capture_on_commit_callbacks):
    plan = lost_plan(user)
    counts = reconcile(django_capture_on_commit_callbacks)
    assert counts == {"stalled": 1, "redriven": 1, "finalized": 0, "skipped": 0, "deferred": 0, "errors": 0}
    plan.refresh_from_db()
    assert plan.status == "complete"
    redriven = PlanEvent.objects.get(plan=plan, type="plan.redriven")
    assert sorted(redriven.payload["agents"]) == ["budget", "cake", "theme", "venue"]


def test_only_unfinished_agents_run_again(catalog, user, eager_celery, django_capture_on_commit_callbacks):
    plan = lost_plan(user)
    tasks.AGENT_TASKS["theme"].apply(args=(str(plan.id),))
    Plan.objects.filter(pk=plan.id).update(updated_at=timezone.now() - timedelta(hours=1))
    reconcile(django_capture_on_commit_callbacks)
    assert PlanEvent.objects.get(plan=plan, type="plan.redriven").payload["agents"] == ["venue", "cake", "budget"]
    assert AgentRun.objects.get(plan=plan, agent="theme").attempts == 1
    assert Plan.objects.get(pk=plan.id).status == "complete"


def test_a_recent_plan_is_left_alone(catalog, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    assert reconcile(django_capture_on_commit_callbacks)["stalled"] == 0
    assert orchestration.plan_redrive(plan_id=plan.id, stalled_after=STALLED, max_redrives=3) == "skipped"


def test_after_max_redrives_the_plan_ends_with_what_it_has(catalog, user, django_capture_on_commit_callbacks):
    plan = lost_plan(user)
    with django_capture_on_commit_callbacks(execute=False):
        counts = orchestration.plan_reconcile(stalled_after=STALLED, max_redrives=0)
    assert counts["finalized"] == 1
    plan.refresh_from_db()
    assert plan.status == "failed", "no agent ever ran"
    assert set(AgentRun.objects.filter(plan=plan).values_list("status", flat=True)) == {"failed"}
    assert PlanEvent.objects.filter(plan=plan, type="agent.failed").count() == 4


def test_a_plan_whose_dispatch_waits_in_the_outbox_is_not_stalled(catalog, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    Plan.objects.filter(pk=plan.id).update(updated_at=timezone.now() - timedelta(hours=1))
    assert reconcile(django_capture_on_commit_callbacks)["stalled"] == 0, "the sweeper, not the reconciler, owns it"


def test_reconcile_command_and_task(catalog, user, capsys, django_capture_on_commit_callbacks):
    lost_plan(user)
    with django_capture_on_commit_callbacks(execute=False):
        call_command("reconcile", "--stalled-after", "60", "--max-redrives", "0")
    assert "1 stalled, 0 redriven, 1 finalized, 0 skipped, 0 deferred, 0 errors" in capsys.readouterr().out
    assert tasks.reconcile.apply().get()["stalled"] == 0


def test_an_outcome_that_cannot_be_recorded_still_returns_a_marker_on_the_last_attempt(
    catalog, user, monkeypatch, django_capture_on_commit_callbacks
):
    from agents.venue import VenueAgent

    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)

    def database_down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "agent_run_finish", database_down)
    agent = VenueAgent()
    with pytest.raises(OperationalError):
        agent.execute(plan_id=str(plan.id), task_id="t1", attempt=1, last_attempt=False)
    marker = agent.execute(plan_id=str(plan.id), task_id="t2", attempt=2, last_attempt=True)
    assert marker == {"agent": "venue", "status": "failed"}, "the chord goes on"
    assert AgentRun.objects.get(plan=plan, agent="venue").status == "running", "left for the planner to close"


def test_the_marker_reports_the_stored_outcome(catalog, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    services.agent_run_start(plan_id=plan.id, revision=1, agent="cake", task_id="t")
    services.agent_run_finish(plan_id=plan.id, revision=1, agent="cake", status="failed", error="earlier copy failed")
    assert tasks.AGENT_TASKS["cake"].apply(args=(str(plan.id),)).get() == {"agent": "cake", "status": "failed"}


def test_a_plan_that_cannot_be_finished_is_failed_and_does_not_block_the_others(
    catalog, user, eager_celery, django_capture_on_commit_callbacks
):
    broken = lost_plan(user)
    Plan.objects.filter(pk=broken.id).update(brief={"unreadable": True}, updated_at=timezone.now() - timedelta(days=1))
    AgentRun.objects.filter(plan=broken).update(status="succeeded", result={"summary": "s", "choices": []})
    healthy = lost_plan(user)
    counts = reconcile(django_capture_on_commit_callbacks)
    assert (counts["errors"], counts["redriven"]) == (1, 1)
    broken.refresh_from_db()
    assert broken.status == "failed" and "could not finish" in broken.error
    assert Plan.objects.get(pk=healthy.id).status == "complete"


def test_while_the_broker_has_a_backlog_nothing_is_redriven(catalog, user, django_capture_on_commit_callbacks):
    plan = lost_plan(user)
    with django_capture_on_commit_callbacks(execute=False):
        counts = orchestration.plan_reconcile(stalled_after=STALLED, max_redrives=3, max_backlog=-1)
    assert counts["deferred"] == 1 and counts["redriven"] == 0
    assert Plan.objects.get(pk=plan.id).status == "running"


def test_each_redrive_waits_twice_as_long(catalog, user, django_capture_on_commit_callbacks):
    plan = lost_plan(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert orchestration.plan_redrive(plan_id=plan.id, stalled_after=STALLED, max_redrives=3) == "redriven"
    assert PlanEvent.objects.filter(plan=plan, type="plan.redriven").count() == 1
    Plan.objects.filter(pk=plan.id).update(updated_at=timezone.now() - STALLED * 1.5)
    assert orchestration.plan_redrive(plan_id=plan.id, stalled_after=STALLED, max_redrives=3) == "skipped"
    Plan.objects.filter(pk=plan.id).update(updated_at=timezone.now() - STALLED * 2.5)
    with django_capture_on_commit_callbacks(execute=False):
        assert orchestration.plan_redrive(plan_id=plan.id, stalled_after=STALLED, max_redrives=3) == "redriven"


def test_a_stale_task_cannot_take_back_a_run_a_redriven_copy_owns(catalog, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="original")
    services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="copy")
    assert not services.agent_run_retrying(
        plan_id=plan.id, revision=1, agent="venue", task_id="original", error="timeout"
    )
    assert services.agent_run_finish(
        plan_id=plan.id, revision=1, agent="venue", status="succeeded", result={"summary": "s"}
    )
    assert AgentRun.objects.get(plan=plan, agent="venue").status == "succeeded"


def test_a_finish_is_accepted_from_retrying(catalog, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="t")
    assert services.agent_run_retrying(plan_id=plan.id, revision=1, agent="venue", task_id="t", error="timeout")
    assert services.agent_run_finish(
        plan_id=plan.id, revision=1, agent="venue", status="succeeded", result={"summary": "s"}
    )


def test_a_result_that_cannot_be_stored_fails_the_run_and_still_returns_a_marker(
    catalog, user, django_capture_on_commit_callbacks
):
    from agents.venue import VenueAgent

    class UnstorableVenueAgent(VenueAgent):
        def run(self, context):
            return {"summary": "s", "choices": {"not", "json"}}

    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    marker = UnstorableVenueAgent().execute(plan_id=str(plan.id), task_id="t", attempt=1, last_attempt=False)
    assert marker == {"agent": "venue", "status": "failed"}
    run = AgentRun.objects.get(plan=plan, agent="venue")
    assert run.status == "failed" and "could not be recorded" in run.error


def test_failing_a_plan_closes_its_unfinished_runs(catalog, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        plan = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    services.agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="t")
    assert services.plan_fail(plan_id=plan.id, error="planner crashed")
    assert set(AgentRun.objects.filter(plan=plan).values_list("status", flat=True)) == {"failed"}
    assert PlanEvent.objects.filter(plan=plan).order_by("-seq").first().type == "plan.failed"

"""Operations in one process: agent flags, load shedding on a real broker queue, metric recording
and the metrics endpoint's guard, log configuration."""

import io
import logging
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from agents import flags, services, tasks  # noqa: F401 - registers the agent tasks
from agents.faults import fault_clear, fault_set
from agents.planner import AgentOutcome, FinalPlanner
from api import shedding
from partyproject import metrics
from partyproject.celery import app as celery_app
from partyproject.logs import logging_config
from planning.models import AgentRun
from tests.unit.test_planner import BRIEF, outcomes

pytestmark = pytest.mark.django_db

KIDS_PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def run_plan(catalog, user, eager_celery, django_capture_on_commit_callbacks):
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            plan = services.plan_create(owner=user, text=KIDS_PARTY)
        plan.refresh_from_db()
        return plan

    return run


# --- Feature flags -------------------------------------------------------------------------------------


def test_a_switched_off_agent_leaves_the_graph_and_its_dependents_run_without_it(settings):
    settings.AGENTS_DISABLED = ["theme"]
    brief = flags.brief_without_disabled(BRIEF)
    assert "theme" not in brief.agents and "theme" not in brief.graph
    assert all("theme" not in needs for needs in brief.graph.values())
    assert flags.switched_off_note("theme") in brief.notes
    assert flags.brief_without_disabled(BRIEF) is not BRIEF
    settings.AGENTS_DISABLED = []
    assert flags.brief_without_disabled(BRIEF) is BRIEF


def test_a_plan_goes_ahead_without_a_switched_off_agent_and_says_so(run_plan, settings):
    settings.AGENTS_DISABLED = ["cake"]
    plan = run_plan()
    assert plan.status == "complete", plan.result
    assert not AgentRun.objects.filter(plan=plan, agent="cake").exists()
    assert flags.switched_off_note("cake") in plan.result["warnings"]
    assert plan.result["cake"] is None


def test_an_optional_agent_that_fails_leaves_the_plan_complete_and_says_so(run_plan, settings):
    settings.AGENTS_OPTIONAL = ["venue"]
    fault_set("venue", error_rate=1.0, error="permanent")
    try:
        plan = run_plan()
    finally:
        fault_clear()
    assert plan.status == "complete", plan.result
    assert plan.result["missing"] == ["venue"]
    assert flags.optional_note("venue") in plan.result["warnings"]


def test_a_failed_agent_that_is_not_optional_still_makes_the_plan_partial(settings):
    settings.AGENTS_OPTIONAL = ["cake"]
    failed = outcomes(venue=AgentOutcome(status="failed", error="down"))
    assert FinalPlanner().build(brief=BRIEF, outcomes=failed)["status"] == "partial"


# --- Load shedding -------------------------------------------------------------------------------------


@pytest.fixture
def private_queue():
    """The default queue renamed to one no worker consumes, emptied afterwards."""
    name, queue = celery_app.conf.task_default_queue, f"shed-test-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_default_queue = queue
    shedding.backlog_forget()
    yield queue
    celery_app.conf.task_default_queue = name
    shedding.backlog_forget()
    with celery_app.connection_for_write() as connection:
        connection.default_channel.client.delete(queue)


def enqueue(count: int) -> None:
    for _ in range(count):
        celery_app.send_task("agents.reconcile", ignore_result=True)


def test_new_plans_get_503_with_retry_after_once_the_backlog_passes_the_bound(
    private_queue, catalog, api, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.PLAN_SHED_BACKLOG, settings.PLAN_SHED_RETRY_AFTER = 3, 45
    enqueue(3)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").status_code in (201, 202), "at the bound"

    shed_before = sample("partyplanner_plans_shed_total")
    enqueue(1)
    shedding.backlog_forget()
    response = api.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == "45"
    assert response.json()["error"]["code"] == "overloaded"
    assert sample("partyplanner_plans_shed_total") == shed_before + 1
    assert api.get("/api/v1/plans/").status_code == 200, "reading is never shed"

    settings.PLAN_SHED_BACKLOG = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").status_code in (201, 202), (
            "0 never sheds"
        )


def test_an_unreadable_broker_sheds_nothing_and_is_not_asked_again_at_once(monkeypatch, settings):
    calls = []

    def unreachable(queue=None):
        calls.append(queue)
        raise ConnectionRefusedError("no broker")

    settings.PLAN_SHED_BACKLOG = 1
    shedding.backlog_forget()
    monkeypatch.setattr(shedding.selectors, "broker_backlog", unreachable)
    shedding.plan_intake_check()
    shedding.plan_intake_check()
    assert len(calls) == 1
    shedding.backlog_forget()


def test_the_oldest_waiting_message_has_an_age(private_queue):
    assert metrics.queue_oldest_age(private_queue) == 0.0
    enqueue(2)
    time.sleep(0.05)
    assert 0.05 <= metrics.queue_oldest_age(private_queue) < 30
    assert private_queue in metrics.queue_names()


# --- Metrics -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state, retval, outcome",
    [
        ("RETRY", None, "retried"),
        ("FAILURE", None, "error"),
        ("SUCCESS", {"agent": "venue", "status": "timed_out"}, "timed_out"),
        ("SUCCESS", {"agent": "venue"}, "missing"),
        ("SUCCESS", "partial", "partial"),
        ("SUCCESS", 3, "unknown"),
    ],
)
def test_a_task_attempt_is_named_by_how_it_ended(state, retval, outcome):
    assert metrics.task_outcome(state=state, retval=retval) == outcome


def test_only_agent_tasks_are_measured():
    assert metrics.agent_of("agents.venue") == "venue"
    assert metrics.agent_of("agents.planner") == "planner"
    assert metrics.agent_of("agents.reconcile") is None
    assert metrics.agent_of(None) is None


def test_an_ended_plan_and_the_reconciler_are_counted(run_plan):
    before = sample("partyplanner_plans_ended_total", outcome="complete")
    latency_before = sample("partyplanner_plan_latency_seconds_count", outcome="complete")
    run_plan()
    assert sample("partyplanner_plans_ended_total", outcome="complete") == before + 1
    assert sample("partyplanner_plan_latency_seconds_count", outcome="complete") == latency_before + 1

    redriven = sample("partyplanner_reconciler_plans_total", action="redriven")
    metrics.reconciler_record({"stalled": 4, "redriven": 2, "finalized": 0})
    assert sample("partyplanner_reconciler_plans_total", action="redriven") == redriven + 2
    metrics.plan_ended(outcome="failed", created_at=timezone.now() + timedelta(seconds=5))  # clock skew: 0, not < 0


def test_the_metrics_endpoint_answers_the_token_or_the_monitoring_network(settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "a-token-for-metrics", ["10.0.0.0/8"]
    client = APIClient()
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="not-an-address").status_code == 403
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer a-token-for-metrics")
    assert response.status_code == 200
    text = response.content.decode()
    for name in ("partyplanner_queue_depth", "partyplanner_breaker_state", "partyplanner_dead_letters"):
        assert f"# TYPE {name} gauge" in text
    assert 'partyplanner_scrape_part_up{part="queues"} 1.0' in text


def test_a_part_that_cannot_be_read_is_reported_down(monkeypatch):
    def broken():
        raise RuntimeError("redis is gone")

    monkeypatch.setattr(metrics, "breaker_states", broken)
    families = {family.name: family for family in metrics.OperationsCollector().collect()}
    parts = {sample.labels["part"]: sample.value for sample in families["partyplanner_scrape_part_up"].samples}
    assert parts["breakers"] == 0 and parts["queues"] == 1
    assert "partyplanner_breaker_state" not in families


# --- Logs ----------------------------------------------------------------------------------------------


def test_log_format_is_json_or_console_and_nothing_else():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(level="INFO", renderer="xml")
    formatter_spec = logging_config(level="INFO", renderer="console")["formatters"]["structured"]
    formatter = formatter_spec.pop("()")(**formatter_spec)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("tests.console")
    logger.addHandler(handler)
    try:
        logger.warning("readable %s", "line")
    finally:
        logger.removeHandler(handler)
    assert "readable line" in stream.getvalue() and not stream.getvalue().startswith("{")

"""Operations in one process: agent flags, load shedding on a real broker queue, metric recording
and the metrics endpoint's guard, log configuration."""

import contextlib
import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import structlog
from django.utils import timezone
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from agents import flags, services, tasks, telemetry  # noqa: F401 - registers the agent tasks
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
    """Messages waiting in the default queue (where new plans' agents wait; reconcile has its own queue)."""
    for _ in range(count):
        celery_app.send_task("agents.reconcile", ignore_result=True, queue=celery_app.conf.task_default_queue)


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
    assert telemetry.task_outcome(state=state, retval=retval) == outcome


def test_only_agent_tasks_are_measured():
    assert telemetry.agent_of("agents.venue") == "venue"
    assert telemetry.agent_of("agents.planner") == "planner"
    assert telemetry.agent_of("agents.reconcile") is None
    assert telemetry.agent_of(None) is None


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

    monkeypatch.setattr(telemetry, "breaker_states", broken)
    families = {family.name: family for family in telemetry.OperationsCollector().collect()}
    parts = {sample.labels["part"]: sample.value for sample in families["partyplanner_scrape_part_up"].samples}
    assert parts["breakers"] == 0 and parts["queues"] == 1
    assert "partyplanner_breaker_state" not in families


# --- Logs ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def lines_of(logger_name: str, *, renderer: str = "json") -> Iterator[io.StringIO]:
    """What `logger_name` writes while the block runs, formatted as the configured LOGGING would."""
    formatter_spec = logging_config(level="INFO", renderer=renderer)["formatters"]["structured"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_spec.pop("()")(**formatter_spec))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_log_format_is_json_or_console_and_nothing_else():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config(level="INFO", renderer="xml")
    with lines_of("tests.console", renderer="console") as stream:
        logging.getLogger("tests.console").warning("readable %s", "line")
    assert "readable line" in stream.getvalue() and not stream.getvalue().startswith("{")


def test_a_retry_line_gives_its_reason_as_text():
    from celery.exceptions import Retry

    with lines_of("tests.retry") as stream:
        structlog.get_logger("tests.retry").warning("task_retrying", reason=Retry(exc=ValueError("down"), when=2))
    assert json.loads(stream.getvalue())["reason"] == "Retry in 2s: ValueError('down')"


def test_celerys_own_task_lines_repeat_ours_and_show_only_at_debug():
    for level, expected in (("INFO", "WARNING"), ("DEBUG", "DEBUG"), ("ERROR", "ERROR")):
        loggers = logging_config(level=level, renderer="json")["loggers"]
        assert loggers["celery.app.trace"]["level"] == loggers["celery.worker.strategy"]["level"] == expected
        assert loggers["celery"]["level"] == level


@pytest.mark.django_db
def test_a_request_logs_one_line_with_the_address_the_throttles_trust(settings, user):
    settings.TRUSTED_PROXY_COUNT = 0
    with lines_of("django_structlog.middlewares.request") as stream:
        APIClient().get("/api/v1/health/", HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="198.51.100.7")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["request_finished"], "request_started only at DEBUG"
    assert lines[0]["ip"] == "198.51.100.7", "no trusted proxy: the forwarded address is the client's claim"
    assert lines[0]["request"] == "GET /api/v1/health/" and lines[0]["code"] == 200


# --- Readiness -----------------------------------------------------------------------------------------


@pytest.fixture
def pings(monkeypatch):
    """Worker answers to control.ping, set by the test (unit level: no worker runs here)."""
    from agents.health import workers_check_forget

    answers = {"replies": [{"celery@host": {"ok": "pong"}}], "calls": 0}

    def ping(timeout):
        answers["calls"] += 1
        return answers["replies"]

    workers_check_forget()
    monkeypatch.setattr(celery_app.control, "ping", ping)
    yield answers
    workers_check_forget()


def test_readiness_reports_each_check_and_each_agents_breaker(pings, settings):
    from agents.breaker import breaker_for

    response = APIClient().get("/api/v1/ready/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == dict.fromkeys(
        ("database", "broker", "workers"), True
    )
    assert set(body["agents"].values()) == {"closed"}

    breaker_for("catalog.venue").open()
    body = APIClient().get("/api/v1/ready/").json()
    assert body["status"] == "degraded" and body["agents"]["venue"] == "open"
    assert body["checks"]["workers"]["cached"] is True and pings["calls"] == 1


def test_readiness_fails_without_an_answering_worker_and_remembers_only_answers(pings, settings):
    settings.READINESS_WORKER_CACHE = 60
    pings["replies"] = []
    response = APIClient().get("/api/v1/ready/")
    assert response.status_code == 503 and response.json()["checks"]["workers"] == {
        "ok": False,
        "answering": 0,
        "cached": False,
    }
    APIClient().get("/api/v1/ready/")
    assert pings["calls"] == 2, "a missing answer is asked again"


def test_readiness_fails_when_the_broker_cannot_be_reached(pings, monkeypatch):
    from partyproject.embedded import free_port

    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")
    response = APIClient().get("/api/v1/ready/")
    body = response.json()
    assert response.status_code == 503 and body["checks"]["broker"]["ok"] is False
    assert body["checks"]["workers"] == {"ok": False, "answering": 0}, "workers are not asked without a broker"
    assert pings["calls"] == 0


# --- Tracing over OTLP -----------------------------------------------------------------------------------


def test_spans_leave_over_otlp_http_to_the_configured_endpoint(monkeypatch, settings):
    """The production exporter, against a local OTLP/HTTP receiver that decodes what it is sent."""
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from threading import Thread

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.sdk.trace import TracerProvider

    from partyproject import tracing

    received: list[ExportTraceServiceRequest] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(ExportTraceServiceRequest.FromString(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    settings.TRACING_EXPORT_FILE = ""
    provider = TracerProvider()
    provider.add_span_processor(tracing.span_processor(None))
    try:
        with provider.get_tracer("test").start_as_current_span("plan.dispatch", attributes={"plan.id": "p-1"}):
            pass
        assert provider.force_flush(5000)
    finally:
        provider.shutdown()
        server.shutdown()
    spans = [
        span for request in received for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans
    ]
    assert [span.name for span in spans] == ["plan.dispatch"]
    assert spans[0].attributes[0].key == "plan.id" and spans[0].attributes[0].value.string_value == "p-1"

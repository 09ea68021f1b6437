"""Metrics, traces and logs seen from outside, on real services and a real prefork worker.

The worker (tests/conftest.py) runs in prometheus-client's multiprocess mode and serves /metrics,
writes its spans as JSON lines and logs JSON; this process traces with the SDK's in-memory exporter.
"""

import io
import json
import logging
import urllib.request

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from agents.faults import fault_clear, fault_set
from partyproject.logs import logging_config
from partyproject.tracing import tracing_setup, tracing_shutdown
from planning.models import PlanEvent
from tests.conftest import client_for
from tests.integration.test_live_pipeline import KIDS_PARTY, wait_for_end

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

AGENTS = ("theme", "venue", "cake", "budget")


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a text exposition, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return samples(response.read().decode())


def value(metrics: dict, name: str, **labels: str) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


def delta(before: dict, after: dict, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_worker_metrics_count_a_plan_that_completes_and_one_whose_agent_retries_and_fails(
    catalog, user, worker, worker_telemetry
):
    client = client_for(user)
    before = scrape(worker_telemetry.metrics_url)
    wait_for_end(client, client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").json()["id"])
    after_complete = scrape(worker_telemetry.metrics_url)

    for agent in AGENTS:
        assert delta(before, after_complete, "partyplanner_agent_tasks_total", agent=agent, outcome="succeeded") == 1
        assert (
            delta(
                before,
                after_complete,
                "partyplanner_agent_task_duration_seconds_count",
                agent=agent,
                outcome="succeeded",
            )
            == 1
        )
    assert delta(before, after_complete, "partyplanner_agent_tasks_total", agent="planner", outcome="complete") == 1
    assert delta(before, after_complete, "partyplanner_plans_ended_total", outcome="complete") == 1
    assert delta(before, after_complete, "partyplanner_plan_latency_seconds_count", outcome="complete") == 1

    fault_set("venue", error_rate=1.0)
    try:
        plan = wait_for_end(client, client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").json()["id"])
    finally:
        fault_clear()
    after_failure = scrape(worker_telemetry.metrics_url)

    assert plan["status"] == "partial"
    retries = 3  # AGENT_MAX_RETRIES: three retries, then the last attempt records the failure
    assert delta(after_complete, after_failure, "partyplanner_agent_tasks_total", agent="venue", outcome="retried") == (
        retries
    )
    assert delta(after_complete, after_failure, "partyplanner_agent_tasks_total", agent="venue", outcome="failed") == 1
    assert delta(after_complete, after_failure, "partyplanner_plans_ended_total", outcome="partial") == 1
    assert (
        delta(after_complete, after_failure, "partyplanner_agent_tasks_total", agent="planner", outcome="partial") == 1
    )


def test_the_web_metrics_endpoint_counts_requests_by_route_and_reports_the_system(catalog, user, worker, settings):
    settings.METRICS_TOKEN = "a-metrics-token-for-the-test"
    settings.METRICS_ALLOWED_NETWORKS = []
    client, monitoring = client_for(user), APIClient()
    assert monitoring.get("/metrics").status_code == 403, "neither on a monitoring network nor holding the token"
    monitoring.credentials(HTTP_AUTHORIZATION="Bearer a-metrics-token-for-the-test")
    before = samples(monitoring.get("/metrics").content.decode())
    created = client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json")
    wait_for_end(client, created.json()["id"])
    after = samples(monitoring.get("/metrics").content.decode())

    labels = {"route": "/api/v1/plans/", "method": "POST", "status": "201"}
    assert delta(before, after, "partyplanner_http_requests_total", **labels) == 1
    assert delta(before, after, "partyplanner_http_request_duration_seconds_count", **labels) == 1
    assert value(after, "partyplanner_queue_depth", queue="celery") >= 0
    assert value(after, "partyplanner_breaker_state", provider="catalog.venue", state="closed") == 1
    assert value(after, "partyplanner_load_shed_backlog_limit") == settings.PLAN_SHED_BACKLOG
    assert all(value(after, "partyplanner_scrape_part_up", part=part) == 1 for part in ("queues", "breakers", "plans"))


@pytest.fixture
def traced():
    """This process traces into the SDK's in-memory exporter (the worker writes its own spans)."""
    exporter = InMemorySpanExporter()
    tracing_setup(role="web", exporter=exporter)
    yield exporter
    tracing_shutdown()


def worker_spans(worker_telemetry, plan_id: str) -> list[dict]:
    lines = worker_telemetry.spans_path.read_text().splitlines() if worker_telemetry.spans_path.exists() else []
    spans = [json.loads(line) for line in lines]
    return [span for span in spans if span["attributes"].get("plan.id") == plan_id]


def test_one_plan_is_one_trace_holding_every_agent_span_also_when_an_agent_retries(
    catalog, user, worker, worker_telemetry, traced
):
    fault_set("venue", error_rate=1.0)
    client = client_for(user)
    try:
        plan = wait_for_end(client, client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").json()["id"])
    finally:
        fault_clear()

    web_spans = traced.get_finished_spans()
    request = next(span for span in web_spans if span.name.startswith("POST") and "plans" in span.name)
    trace_id = format(request.context.trace_id, "032x")
    dispatch = next(span for span in web_spans if span.name == "plan.dispatch")
    assert format(dispatch.context.trace_id, "032x") == trace_id
    assert dispatch.attributes["plan.id"] == plan["id"]

    spans = worker_spans(worker_telemetry, plan["id"])
    runs = [span["name"] for span in spans if span["name"].startswith("run/")]
    assert {f"run/agents.{agent}" for agent in (*AGENTS, "planner")} <= set(runs)
    assert runs.count("run/agents.venue") == 4, "the first attempt and three retries"
    assert {span["context"]["trace_id"] for span in spans} == {f"0x{trace_id}"}
    events = PlanEvent.objects.filter(plan_id=plan["id"])
    assert set(events.values_list("trace_id", flat=True)) == {trace_id}


def test_log_lines_are_json_with_the_request_user_plan_task_and_trace_ids(
    catalog, user, worker, worker_telemetry, traced
):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = logging_config(level="INFO", renderer="json")["formatters"]["structured"]
    handler.setFormatter(formatter.pop("()")(**formatter))
    client = client_for(user)
    logging.getLogger().addHandler(handler)
    try:
        created = client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json")
    finally:
        logging.getLogger().removeHandler(handler)
    plan = wait_for_end(client, created.json()["id"])
    trace_id = PlanEvent.objects.filter(plan_id=plan["id"]).values_list("trace_id", flat=True).first()
    assert len(trace_id) == 32

    web = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert all(line["request_id"] and line["trace_id"] == trace_id for line in web), web
    serving = web[next(index for index, line in enumerate(web) if "plan_id" in line) :]
    assert any(line["event"] == "task_enqueued" for line in serving)
    assert all(line["plan_id"] == plan["id"] and line["user_id"] == user.pk for line in serving), serving

    lines = [json.loads(line) for line in worker_telemetry.log_path.read_text().splitlines() if line.startswith("{")]
    ours = [line for line in lines if line.get("plan_id") == plan["id"]]
    assert {line.get("task") for line in ours if line["event"] == "task_succeeded"} >= {
        f"agents.{agent}" for agent in (*AGENTS, "planner")
    }
    request_ids = {line["request_id"] for line in web}
    for line in ours:
        assert line["task_id"] and line["trace_id"] == trace_id and line["request_id"] in request_ids, line

"""RabbitMQ as the broker (results stay in Redis): quorum queues, publisher confirms, and countdown
retries through Celery's native delayed delivery instead of being held in the worker.

Runs when the suite's broker is RabbitMQ, as `.ci/run` does in its RabbitMQ step (retries then wait up
to a second, so that they take the delayed path):
    CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/partyplanner_test AGENT_RETRY_BACKOFF_MAX=1 \\
        .venv/bin/python -m pytest tests/integration/test_rabbitmq.py tests/integration/test_live_pipeline.py
"""

import subprocess
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from agents.base import agent_policy
from agents.faults import fault_set
from partyproject.celery import app as celery_app
from planning.models import AgentRun, PlanEvent
from tests.conftest import client_for
from tests.integration.test_live_pipeline import KIDS_PARTY, assert_gapless_events, wait_for_end

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.CELERY_BROKER_IS_AMQP, reason="the broker is not RabbitMQ (see .ci/run)"),
]


def queue_types() -> dict[str, str]:
    """Each queue of the broker's virtual host and its type, as RabbitMQ reports them."""
    vhost = urlsplit(settings.CELERY_BROKER_URL).path.lstrip("/") or "/"
    listing = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type", "--no-table-headers"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("\t") for line in listing.splitlines() if "\t" in line)


def test_the_task_queues_are_quorum_queues_and_publishing_is_confirmed(worker):
    types = queue_types()
    for name in settings.CELERY_QUEUE_NAMES:
        assert types[name] == "quorum", name
    assert types["celery_delayed_0"] == "quorum", "native delayed delivery is set up"
    assert celery_app.conf.broker_transport_options["confirm_publish"] is True
    with celery_app.connection_for_write() as connection:
        channel = connection.default_channel
        assert connection.connection.confirm_publish is True
        assert channel.basic_publish == channel.basic_publish_confirm, "each publish waits for the broker's ack"


def test_a_failing_agent_retries_after_a_countdown_through_the_broker_and_the_plan_ends_partial(
    catalog, user, worker, worker_telemetry
):
    fault_set("venue", error_rate=1.0)
    client = client_for(user)
    started = time.monotonic()
    plan = wait_for_end(client, client.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").json()["id"])

    assert plan["status"] == "partial" and plan["result"]["missing"] == ["venue"]
    attempts = agent_policy("venue")["max_retries"] + 1
    assert AgentRun.objects.get(plan_id=plan["id"], agent="venue").attempts == attempts
    assert PlanEvent.objects.filter(plan_id=plan["id"], agent="venue", type="agent.retrying").count() == attempts - 1
    assert_gapless_events(plan["id"])
    assert time.monotonic() - started < 60
    log = worker_telemetry.log_path.read_text()
    assert "Retry in" in log, "the retry's line (django-structlog's task_retrying) names its countdown"
    assert "not supported with native delayed delivery" not in log, "a countdown must not be held in the worker"

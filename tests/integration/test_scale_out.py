"""Scale out on Celery's own engine: several worker processes with node names of their own, each on
some of the queues, share the work of the same plans and nothing about the outcome changes.

Real PostgreSQL, Redis and prefork workers; the session's shared worker is not used here (it would
take the same queues), so each test starts its own pair and stops it.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from kombu import Exchange, Queue

from partyproject.celery import app as celery_app
from partyproject.embedded import EmbeddedServices
from planning.models import AgentRun, PlanEvent
from tests.conftest import child_process_env, client_for
from tests.integration.test_live_pipeline import JAZZ_PARTY, KIDS_PARTY, assert_gapless_events, wait_for_end

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TASK_DONE = re.compile(r"task_succeeded .*\btask=(agents\.\w+)")


def tasks_run(log: Path) -> set[str]:
    """The names of the tasks a worker finished, from its log."""
    return set(TASK_DONE.findall(log.read_text()))


def plans_complete(user, count: int) -> list[dict]:
    client = client_for(user)
    texts = [KIDS_PARTY, JAZZ_PARTY] * count
    ids = [client.post("/api/v1/plans/", {"text": text}, format="json").json()["id"] for text in texts[:count]]
    ends = [wait_for_end(client, plan_id) for plan_id in ids]
    assert {plan["status"] for plan in ends} == {"complete"}
    for plan_id in ids:
        assert PlanEvent.objects.filter(plan_id=plan_id, type="plan.complete").count() == 1
        assert_gapless_events(plan_id)
    assert AgentRun.objects.filter(plan_id__in=ids, status="succeeded", attempts=1).count() == 4 * count
    return ends


@pytest.fixture
def pair(tmp_path):
    """Worker nodes of the test's own; the workers already running (the session's shared one) stop
    consuming meanwhile (Celery's remote control), or they would take some of the pair's tasks."""
    others = [name for reply in celery_app.control.ping(timeout=1) for name in reply]
    queues = [queue.name for queue in celery_app.amqp.queues.values()]
    for queue in queues if others else ():
        celery_app.control.cancel_consumer(queue, destination=others, reply=True)
    celery_app.control.purge()
    services = EmbeddedServices(concurrency=1, log_dir=tmp_path)
    yield services
    services.stop()
    for queue in queues if others else ():
        celery_app.control.add_consumer(queue, destination=others, reply=True)


def test_two_nodes_on_different_queues_complete_plans_together(catalog, user, pair, tmp_path):
    env = child_process_env()
    pair.start_worker(env=env, name="starter", queues=[settings.CELERY_TASK_DEFAULT_QUEUE])
    pair.start_worker(
        env=env,
        name="finisher",
        queues=[settings.CELERY_PLANNER_QUEUE, settings.CELERY_FOLLOWUP_QUEUE, settings.CELERY_MAINTENANCE_QUEUE],
    )
    nodes = {name.partition("@")[0] for reply in celery_app.control.ping(timeout=1) for name in reply}
    assert {"starter", "finisher"} <= nodes

    plans_complete(user, 6)

    starter, finisher = tasks_run(tmp_path / "starter.log"), tasks_run(tmp_path / "finisher.log")
    assert starter == {"agents.theme", "agents.venue", "agents.budget"}, "first steps of new plans"
    assert finisher == {"agents.cake", "agents.planner"}, "later steps and the callbacks"


@pytest.fixture
def venue_queue():
    """This process (the publisher) routes the venue agent to a queue of its own, as AGENT_QUEUES does."""
    amqp, routes = celery_app.amqp, celery_app.conf.task_routes
    celery_app.conf.task_routes = {**routes, "agents.venue": {"queue": "venue"}}
    amqp.queues.add(Queue("venue", Exchange("venue"), routing_key="venue"))
    amqp.flush_routes()
    amqp.__dict__.pop("router", None)
    yield "venue"
    celery_app.conf.task_routes = routes
    amqp.queues.pop("venue")
    amqp.flush_routes()
    amqp.__dict__.pop("router", None)


def test_an_agent_class_routed_to_its_own_queue_runs_only_on_its_own_node(catalog, user, pair, tmp_path, venue_queue):
    env = child_process_env(AGENT_QUEUES='{"venue": "venue"}')
    pair.start_worker(env=env, name="general", extra_args=["--exclude-queues", venue_queue])
    pair.start_worker(env=env, name="venues", queues=[venue_queue])

    plans_complete(user, 4)

    assert tasks_run(tmp_path / "venues.log") == {"agents.venue"}
    assert "agents.venue" not in tasks_run(tmp_path / "general.log")
    assert {"agents.theme", "agents.cake", "agents.planner"} <= tasks_run(tmp_path / "general.log")

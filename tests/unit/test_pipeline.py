import pytest
from celery import chain
from celery.canvas import _chain

from agents.pipeline import PLANNER_TASK, graph_components, plan_canvas, topological_order

FULL_GRAPH = {"theme": [], "venue": [], "cake": ["theme"], "budget": []}


def test_components_put_dependents_in_one_chain_in_order():
    assert graph_components(FULL_GRAPH) == [["theme", "cake"], ["venue"], ["budget"]]


def test_components_join_agents_linked_through_a_shared_dependency():
    graph = {"a": [], "b": ["a"], "c": ["a"], "d": []}
    assert graph_components(graph) == [["a", "b", "c"], ["d"]]


def test_components_keep_a_diamond_in_topological_order():
    graph = {"budget": ["venue", "cake"], "venue": [], "theme": [], "cake": ["theme"]}
    (part,) = graph_components(graph)
    assert part.index("budget") == 3
    assert part.index("theme") < part.index("cake")


@pytest.mark.parametrize(
    "graph, message",
    [({"a": ["b"], "b": ["a"]}, "cycle"), ({"a": ["ghost"]}, "unknown")],
)
def test_bad_graphs_are_refused(graph, message):
    with pytest.raises(ValueError, match=message):
        graph_components(graph)


def test_topological_order_is_stable():
    assert topological_order({"x": [], "y": [], "z": ["x"]}) == ["x", "y", "z"]


def test_canvas_is_a_chord_with_a_chain_in_its_header_and_the_planner_as_callback():
    canvas = plan_canvas(plan_id="p1", graph=FULL_GRAPH)
    header = canvas.tasks
    assert canvas.body.task == PLANNER_TASK
    assert canvas.body.immutable and canvas.body.args == ("p1",)
    assert isinstance(header[0], _chain | chain)
    assert [step.task for step in header[0].tasks] == ["agents.theme", "agents.cake"]
    assert [sig.task for sig in header[1:]] == ["agents.venue", "agents.budget"]
    assert all(step.immutable and step.args == ("p1",) for step in [*header[0].tasks, *header[1:]])


def routed_queue(sig) -> str:
    """The queue Celery's router sends `sig` to, from its own options and the task routes."""
    from partyproject.celery import app

    return app.amqp.router.route(dict(sig.options), sig.task)["queue"].name


def test_plans_finish_as_they_go_callbacks_and_later_steps_have_queues_ahead_of_new_work():
    from partyproject.celery import app

    canvas = plan_canvas(plan_id="p1", graph=FULL_GRAPH)
    theme, cake = canvas.tasks[0].tasks
    assert routed_queue(canvas.body) == "planner"
    assert routed_queue(canvas.body.options["link_error"][0]) == "planner"
    assert routed_queue(theme) == routed_queue(canvas.tasks[1]) == "celery", "first steps of a new plan"
    assert routed_queue(cake) == "followup", "a later step of a started plan"
    assert [queue.name for queue in app.conf.task_queues] == ["planner", "followup", "maintenance", "celery"]
    assert app.conf.broker_transport_options["queue_order_strategy"] == "priority"


def test_an_agent_class_with_a_queue_of_its_own_keeps_it_as_a_later_step(settings):
    settings.AGENT_QUEUES = {"cake": "cake"}
    cake = plan_canvas(plan_id="p1", graph=FULL_GRAPH).tasks[0].tasks[1]
    assert "queue" not in cake.options, "its route (CELERY_TASK_ROUTES from AGENT_QUEUES) decides"

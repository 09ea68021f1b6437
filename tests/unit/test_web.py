"""The page: session sign-in, the form, a plan's page and its result fragment, the budget bars."""

import pytest
from django.test import Client

from agents import tasks  # noqa: F401 - registers the agents with the Celery app
from planning.models import AgentRun, Plan
from tests.conftest import user_create
from tests.events_helpers import plan_with_events
from web.views import budget_bars

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_client(user):
    client = Client()
    assert client.login(username=user.username, password="a-long-test-password")
    return client


def test_pages_need_a_signed_in_user(user):
    plan = plan_with_events(user, 1)
    for url in ("/", "/app/", f"/app/plans/{plan.id}/"):
        response = Client().get(url, follow=True)
        assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert b"Sign in" in Client().get("/accounts/login/").content


def test_describe_a_party_and_land_on_its_live_page(
    browser_client, catalog, eager_celery, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = browser_client.post("/app/", {"text": "Birthday party for 25 kids in Austin, budget $1200"})
    plan = Plan.objects.get(owner=user)
    assert plan.status == "complete", (plan.status, list(plan.events.values_list("type", "payload")))
    assert response.status_code == 302 and response["Location"] == f"/app/plans/{plan.id}/"
    page = browser_client.get(response["Location"]).content.decode()
    assert 'data-agent="venue"' in page and f'data-plan-id="{plan.id}"' in page
    assert "Budget" in page and "Recommendations" in page and 'class="bar-fill"' in page
    fragment = browser_client.get(f"/app/plans/{plan.id}/result/").content.decode()
    assert 'id="final-plan"' in fragment and plan.result["venue"]["name"] in fragment
    listing = browser_client.get("/app/").content.decode()
    assert f"/app/plans/{plan.id}/" in listing


def test_an_empty_description_is_refused_with_a_message(browser_client):
    response = browser_client.post("/app/", {"text": "   "})
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    assert not Plan.objects.exists()


def test_a_running_plan_shows_each_agents_state(browser_client, user):
    plan = plan_with_events(user, 1)
    AgentRun.objects.create(plan=plan, agent="venue", status="retrying", attempts=2)
    AgentRun.objects.create(plan=plan, agent="cake", status="timed_out")
    page = browser_client.get(f"/app/plans/{plan.id}/").content.decode()
    assert 'data-state="retrying"' in page and "attempt 2" in page and 'data-state="failed"' in page
    assert "The agents are working on it" in page


def test_someone_elses_plan_is_404(browser_client):
    plan = plan_with_events(user_create("eve"), 1)
    assert browser_client.get(f"/app/plans/{plan.id}/").status_code == 404
    assert browser_client.get(f"/app/plans/{plan.id}/result/").status_code == 404


def test_budget_bars_are_shares_of_the_budget():
    bars = budget_bars({"venue": 500, "theme": 250, "cake": 100, "reserved": 150, "remaining": 0, "budget": 1000})
    assert [(bar["label"], bar["percent"]) for bar in bars] == [
        ("Venue", 50.0), ("Theme", 25.0), ("Cake", 10.0), ("Catering and reserve", 15.0),
    ]  # fmt: skip
    without_budget = budget_bars({"venue": 300, "cake": 100})
    assert [bar["percent"] for bar in without_budget] == [75.0, 25.0]
    assert budget_bars({}) == []

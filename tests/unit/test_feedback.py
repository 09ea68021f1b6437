"""Feedback on plans, the arm stored on each plan, and the per-arm outcome figures."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from planning import selectors
from planning.models import Feedback, Plan, PlanStatus
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def finished_plan(owner, *, arm="balanced", within_budget=True, status=PlanStatus.COMPLETE) -> Plan:
    result = {"venue": {"name": "Hall"}, "theme": {"name": "Jazz"}, "cake": None, "costs": {}}
    if within_budget is not None:
        result["costs"]["within_budget"] = within_budget
    return Plan.objects.create(owner=owner, status=status, selection_arm=arm, result=result)


def feedback_url(plan) -> str:
    return f"/api/v1/plans/{plan.id}/feedback/"


def test_the_owner_accepts_a_pick_and_rates_the_plan(api, user):
    plan = finished_plan(user)
    response = api.post(feedback_url(plan), {"pick": "venue", "verdict": "accept", "rating": 5}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["arm"], body["pick"], body["verdict"], body["rating"]) == ("balanced", "venue", "accept", 5)
    assert Feedback.objects.get().author == user


def test_someone_elses_plan_is_not_found(other_user, user):
    plan = finished_plan(other_user)
    response = client_for(user).post(feedback_url(plan), {"rating": 3}, format="json")
    assert response.status_code == 404
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"rating": 6}, "rating"),
        ({"rating": 0}, "rating"),
        ({"pick": "venue"}, "non_field_errors"),
        ({"verdict": "accept"}, "non_field_errors"),
        ({}, "non_field_errors"),
        ({"pick": "dj", "verdict": "accept"}, "pick"),
        ({"pick": "cake", "verdict": "reject"}, "non_field_errors"),  # the plan has no cake
    ],
)
def test_bad_feedback_gets_a_clear_400(api, user, body, field):
    response = api.post(feedback_url(finished_plan(user)), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_running_plan_takes_no_feedback(api, user):
    plan = finished_plan(user, status=PlanStatus.RUNNING)
    response = api.post(feedback_url(plan), {"rating": 4}, format="json")
    assert response.status_code == 400 and "nothing to give feedback on" in response.content.decode()


def test_plans_carry_their_arm_in_the_api(api, user, settings):
    settings.SELECTION_ARMS = {"balanced": 1, "value": 1}
    response = api.post("/api/v1/plans/", {"text": "Birthday for 20 in Austin"}, format="json")
    assert response.status_code == 202
    arm = response.json()["selection_arm"]
    assert arm in ("balanced", "value")
    again = api.post("/api/v1/plans/", {"text": "Reunion for 40 in Denver"}, format="json")
    assert again.json()["selection_arm"] == arm, "one owner, one arm"
    listed = api.get("/api/v1/plans/").json()
    assert {plan["selection_arm"] for plan in listed["results"]} == {arm}


def test_per_arm_outcomes_count_the_latest_word(user, other_user, capsys):
    first, second = finished_plan(user), finished_plan(user, within_budget=False)
    value = finished_plan(other_user, arm="value", within_budget=None)
    Feedback.objects.create(plan=first, author=user, arm="balanced", pick="venue", verdict="reject")
    Feedback.objects.create(plan=first, author=user, arm="balanced", pick="venue", verdict="accept", rating=2)
    Feedback.objects.create(plan=first, author=user, arm="balanced", rating=4)
    Feedback.objects.create(plan=second, author=user, arm="balanced", pick="theme", verdict="reject", rating=3)
    Feedback.objects.create(plan=value, author=other_user, arm="value", pick="venue", verdict="accept")
    outcomes = selectors.arm_outcomes()
    assert outcomes["balanced"] == {
        "plans": 2, "acceptance_rate": 0.5, "verdicts": 2, "mean_rating": 3.5, "ratings": 2, "over_budget_rate": 0.5,
    }  # fmt: skip
    assert outcomes["value"]["acceptance_rate"] == 1.0 and outcomes["value"]["over_budget_rate"] is None
    call_command("arm_outcomes", "--json")
    assert json.loads(capsys.readouterr().out) == outcomes
    call_command("arm_outcomes")
    table = capsys.readouterr().out
    assert "balanced" in table and "0.5" in table


def test_the_admin_shows_arms_and_outcomes(user, client):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "a-long-admin-password")
    finished_plan(user)
    client.force_login(admin)
    page = client.get("/admin/planning/feedback/")
    assert page.status_code == 200 and b"Outcomes per selection arm" in page.content and b"balanced" in page.content
    plans = client.get("/admin/planning/plan/?selection_arm=balanced")
    assert plans.status_code == 200 and b"balanced" in plans.content

"""`GET /api/v1/plans/{id}/events/`: the log in order, paginated by seq, for the owner and staff only."""

import pytest

from tests.conftest import client_for, user_create
from tests.events_helpers import plan_with_events

pytestmark = pytest.mark.django_db


def test_the_owner_pages_through_the_log_in_order(api, user):
    plan = plan_with_events(user, 5, end=True)
    first = api.get(f"/api/v1/plans/{plan.id}/events/?limit=4").json()
    assert [event["seq"] for event in first["results"]] == [1, 2, 3, 4]
    assert first["results"][0] == {
        "v": 1, "plan_id": str(plan.id), "seq": 1, "type": "agent.started", "agent": "venue",
        "payload": {"pad": ""}, "at": first["results"][0]["at"], "revision": 1,
    }  # fmt: skip
    second = api.get(first["next"]).json()
    assert [event["seq"] for event in second["results"]] == [5, 6] and second["next"] is None
    assert [e["seq"] for e in api.get(f"/api/v1/plans/{plan.id}/events/?after=5").json()["results"]] == [6]


def test_another_user_gets_404_and_staff_may_read(user):
    plan = plan_with_events(user, 2)
    assert client_for(user_create("eve")).get(f"/api/v1/plans/{plan.id}/events/").status_code == 404
    staff = client_for(user_create("operator", is_staff=True))
    assert len(staff.get(f"/api/v1/plans/{plan.id}/events/").json()["results"]) == 2


@pytest.mark.parametrize("query", ["?after=-1", "?after=x", "?limit=0", "?limit=501"])
def test_bad_parameters_are_a_structured_400(api, user, query):
    plan = plan_with_events(user, 1)
    response = api.get(f"/api/v1/plans/{plan.id}/events/{query}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_no_token_is_401(user):
    from rest_framework.test import APIClient

    plan = plan_with_events(user, 1)
    assert APIClient().get(f"/api/v1/plans/{plan.id}/events/").status_code == 401

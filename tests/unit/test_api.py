import datetime
import json
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from agents import services as orchestration
from agents.analyzer import load_rules
from api.serializers import PlanCreateInputSerializer
from bench import fuzz_api
from planning.models import Plan, PlanDispatch, PlanEvent
from tests.conftest import client_for
from tests.events_helpers import without_wake_ups

pytestmark = pytest.mark.django_db

KIDS_PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"


def error_code(response):
    return response.json()["error"]["code"]


def test_health_needs_no_token():
    response = APIClient().get("/api/v1/health/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "method, path",
    [("get", "/api/v1/plans/"), ("post", "/api/v1/plans/"), ("get", f"/api/v1/plans/{uuid.uuid4()}/")],
)
def test_every_plan_endpoint_needs_a_token(method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")
    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_a_forged_token_is_refused(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.forged")
    assert client.get("/api/v1/plans/").status_code == 401


def test_a_wrong_password_gets_no_token(user):
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 401


def test_refresh_rotates_and_revokes_the_old_refresh_token(user):
    client = APIClient()
    tokens = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "a-long-test-password"}, format="json"
    ).json()
    fresh = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert fresh.status_code == 200 and fresh.json()["refresh"] != tokens["refresh"]
    again = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401


def test_create_answers_with_the_plan_and_its_brief_and_puts_its_dispatch_in_the_outbox(
    catalog, api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as dispatched:
        response = api.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json")
    # Inside the test's transaction nothing commits, so the chord is not published yet: 202, queued.
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "running" and body["dispatched_at"] is None
    assert body["brief"]["dietary_needs"] == ["gluten_free"]
    assert {run["agent"] for run in body["agent_runs"]} == {"theme", "venue", "cake", "budget"}
    assert len(without_wake_ups(dispatched)) == 1
    outbox = PlanDispatch.objects.get(plan_id=body["id"])
    assert (outbox.state, outbox.reason) == ("pending", "initial")
    assert outbox.graph == {"theme": [], "venue": [], "cake": ["theme"], "budget": []}


def test_structured_fields_override_the_text(catalog, api):
    payload = {"text": KIDS_PARTY, "guest_count": 30, "city": "Chicago", "dietary_needs": ["vegan"]}
    brief = api.post("/api/v1/plans/", payload, format="json").json()["brief"]
    assert (brief["guest_count"], brief["city"], brief["dietary_needs"]) == (30, "chicago", ["vegan"])


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "non_field_errors"),
        ({"text": ""}, "text"),
        ({"text": "   ", "city": "Austin"}, "text"),
        ({"unknown": 1}, "unknown"),
        ({"guest_count": 25.0}, "guest_count"),
        ({"guest_count": "25"}, "guest_count"),
        ({"guest_count": True}, "guest_count"),
        ({"text": 123}, "text"),
        ({"date": "20270508"}, "date"),
        ({"text": " " + "x" * 2000}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"guest_count": 0}, "guest_count"),
        ({"guest_count": 5000}, "guest_count"),
        ({"guest_count": "many"}, "guest_count"),
        ({"budget": -5}, "budget"),
        ({"date": "2001-01-01"}, "date"),
        ({"date": "2999-01-01"}, "date"),
        ({"date": "next tuesday-ish"}, "date"),
        ({"dietary_needs": ["carnivore"]}, "dietary_needs"),
        ({"party_type": "rave"}, "party_type"),
        ({"theme_preferences": "jazz"}, "theme_preferences"),
        ({"text": ["not", "a", "string"]}, "text"),
    ],
)
def test_bad_input_gets_400_with_field_errors_and_writes_nothing(api, payload, field):
    response = api.post("/api/v1/plans/", payload, format="json")
    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert field in response.json()["error"]["fields"]
    assert api.get("/api/v1/plans/").json()["results"] == []


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (
            "Party for 2,000,000 guests in Austin",
            "guest_count",
            "A party of 2,000,000 guests is beyond what we can plan: 1 to 1,000 guests.",
        ),
        ("birthday party, 20 people, budget $1", "budget", "A budget of $1 is outside what we can plan with"),
    ],
)
def test_a_request_beyond_the_limits_in_words_gets_422_and_writes_nothing(
    catalog, api, django_capture_on_commit_callbacks, text, field, message
):
    with django_capture_on_commit_callbacks(execute=False) as dispatched:
        response = api.post("/api/v1/plans/", {"text": text}, format="json")
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "out_of_range"
    assert error["message"].startswith(message)
    assert list(error["fields"]) == [field] and error["fields"][field][0].startswith(message)
    assert Plan.objects.count() == 0 and PlanEvent.objects.count() == 0 and PlanDispatch.objects.count() == 0
    assert dispatched == []


def test_the_serializer_offers_exactly_the_analyzers_vocabulary():
    rules = load_rules()
    fields = PlanCreateInputSerializer().fields
    assert tuple(fields["party_type"].choices) == (*rules.party_type_names, rules.fallback_party_type)
    assert tuple(fields["dietary_needs"].child.choices) == rules.dietary_options
    assert (fields["guest_count"].min_value, fields["guest_count"].max_value) == rules.guest_count_range
    assert (fields["budget"].min_value, fields["budget"].max_value) == rules.budget_range


def test_malformed_json_and_other_media_types_are_refused(api):
    assert api.post("/api/v1/plans/", "{not json", content_type="application/json").status_code == 400
    response = api.post("/api/v1/plans/", "text=hi", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and error_code(response) == "unsupported_media_type"


def test_users_see_only_their_own_plans(catalog, user, other_user):
    mine = orchestration.plan_create(owner=user, text=KIDS_PARTY)
    theirs = orchestration.plan_create(owner=other_user, text="wedding for 100 in Chicago")
    alice = client_for(user)
    listed = alice.get("/api/v1/plans/").json()["results"]
    assert [item["id"] for item in listed] == [str(mine.id)]
    assert alice.get(f"/api/v1/plans/{mine.id}/").status_code == 200
    response = alice.get(f"/api/v1/plans/{theirs.id}/")
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_unknown_routes_and_ids_answer_json_404(api):
    assert api.get(f"/api/v1/plans/{uuid.uuid4()}/").status_code == 404
    response = api.get("/api/v1/plans/not-a-uuid/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_plan_creation_is_rate_limited_with_retry_after(catalog, api, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"plan_create": "2/min", "token": "20/min"})
    statuses = [api.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json") for _ in range(3)]
    assert [response.status_code for response in statuses] == [202, 202, 429], "accepted (published at commit)"
    assert int(statuses[-1]["Retry-After"]) > 0
    assert error_code(statuses[-1]) == "throttled"


def test_the_openapi_schema_describes_the_plan_endpoints(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/plans/" in schema.content.decode()


@pytest.mark.parametrize(
    "body",
    [
        [],
        "just a string",
        123,
        None,
        {"text": None},
        {"guest_count": None, "budget": None},
        {"budget": 1e30},
        {"guest_count": 2**63},
        {"date": 20270101},
        {"city": {"nested": "object"}},
        {"dietary_needs": [None]},
        {"theme_preferences": ["x" * 51]},
    ],
)
def test_garbage_bodies_get_400_never_500(api, body):
    response = api.post("/api/v1/plans/", body, format="json")
    assert response.status_code == 400, response.content
    assert error_code(response) in ("invalid", "parse_error")


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE planning_plan; --",
        "<script>alert('x')</script> party for 10 in Austin",
        "🎉🎂🎈" * 100,
        "\x01 control characters \x7f",
        "party " * 300,
    ],
)
def test_hostile_text_is_stored_verbatim_and_planned(catalog, api, text):
    response = api.post("/api/v1/plans/", {"text": text}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["request_text"] == text.strip()
    assert body["status"] == "running" and body["brief"]["party_type"]
    assert "<script>" not in json.dumps(body["brief"])


def test_a_null_byte_is_refused_with_400(api):
    response = api.post("/api/v1/plans/", {"text": "party\x00"}, format="json")
    assert response.status_code == 400 and "text" in response.json()["error"]["fields"]


def test_a_database_outage_answers_503_with_retry_after(api, monkeypatch):
    from django.db import OperationalError

    from planning import selectors

    def unavailable(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "plan_list", unavailable)
    response = api.get("/api/v1/plans/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5" and error_code(response) == "service_unavailable"


def test_a_redis_outage_answers_503_not_500(api, settings):
    from partyproject.embedded import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5},
        }
    }
    response = api.get("/api/v1/plans/")
    assert response.status_code == 503 and response["Retry-After"] == "5"


def test_the_json_500_handler_keeps_the_error_shape(rf):
    from api.exceptions import server_error

    response = server_error(rf.get("/api/v1/plans/"))
    assert response.status_code == 500 and json.loads(response.content)["error"]["code"] == "server_error"


def test_the_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/plans/{plan_id}/" in (tmp_path / "schema.yaml").read_text()


def test_a_schema_fuzz_run_that_spans_midnight_runs_again(monkeypatch, tmp_path):
    days = iter(datetime.date(2026, 12, day) for day in (6, 7, 7, 7))
    monkeypatch.setattr(timezone, "localdate", lambda: next(days))
    summaries = iter([{"failures": {"ST202 Schema-valid request rejected": 2}}, {"failures": {}}])
    monkeypatch.setattr(fuzz_api, "_fuzz_once", lambda **_: next(summaries))
    summary = fuzz_api.fuzz_run(base_url="http://x", token="t", max_examples=1, seed=1, report=tmp_path / "r.json")
    assert summary == {"failures": {}, "runs": 2}, "the run on yesterday's schema is replaced"
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2026, 12, 7))
    same_day = iter([{"failures": {"ST202 Schema-valid request rejected": 1}}])
    monkeypatch.setattr(fuzz_api, "_fuzz_once", lambda **_: next(same_day))
    summary = fuzz_api.fuzz_run(base_url="http://x", token="t", max_examples=1, seed=1, report=tmp_path / "r.json")
    assert summary["runs"] == 1 and summary["failures"], "a failure within one day stands"

"""The fast read path: plan ETags and cached renderings, the list's columns, stateless JWT with revocation,
the one-round-trip throttle and the orjson renderer."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient
from rest_framework_simplejwt import tokens as simplejwt_tokens
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import aware_utcnow

from agents import services as orchestration
from api import authentication, renderers
from api.authentication import (
    PERMISSIONS_CLAIM,
    RoleRefreshToken,
    _Revocations,
    revocations,
    tokens_revoke,
    verified_tokens,
)
from api.renderers import RENDERING_SCHEMA, FastJSONRenderer, etag_matches, plan_etag, plan_renderings_forget
from api.serializers import PlanSummarySerializer, plan_detail_data
from api.throttling import ScopedThrottle, UserOrKeyThrottle, window_hit
from planning import selectors
from planning.models import AgentRunStatus, Plan, PlanDispatch
from planning.services import agent_run_finish, agent_run_start, dispatch_mark_sent, event_append
from tests.conftest import client_for, user_create

pytestmark = pytest.mark.django_db

KIDS_PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"


@pytest.fixture(autouse=True)
def _fresh_renderings():
    plan_renderings_forget()
    revocations.forget()
    verified_tokens.forget()
    yield
    plan_renderings_forget()


@pytest.fixture
def plan(catalog, user):
    return orchestration.plan_create(owner=user, text=KIDS_PARTY)


@pytest.fixture
def support_user(db):
    person = user_create("sam-support")
    person.groups.add(Group.objects.get(name="support"))
    return person


def detail(client: APIClient, plan: Plan, **headers):
    return client.get(f"/api/v1/plans/{plan.id}/", headers=headers)


def test_a_plan_has_a_strong_etag_whose_leading_integer_is_its_version(api, plan):
    response = detail(api, plan)
    plan.refresh_from_db()
    assert response.status_code == 200
    assert response["ETag"] == f'"{plan.version}-{plan.event_seq}-r{RENDERING_SCHEMA}"'
    assert int(response["ETag"].strip('"').split("-")[0]) == response.json()["version"] == plan.version


def test_a_matching_if_none_match_answers_304_without_a_body(api, plan):
    etag = detail(api, plan)["ETag"]
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        again = detail(api, plan, **{"If-None-Match": header})
        assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert detail(api, plan, **{"If-None-Match": '"1-0"'}).status_code == 200


def test_support_staff_get_their_own_rendering_with_internals(plan, support_user):
    Plan.objects.filter(pk=plan.pk).update(error="psycopg exploded")  # no reader sees this: no bump
    event_append(plan_id=plan.id, type="note")  # ... until something bumps the sequence
    owner = detail(client_for(plan.owner), plan)
    staff = detail(client_for(support_user), plan)
    assert staff["ETag"] == owner["ETag"][:-1] + '-i"'
    assert staff.json()["error"] == "psycopg exploded"
    assert owner.json()["error"] == "The plan could not be completed."
    assert detail(client_for(support_user), plan, **{"If-None-Match": owner["ETag"]}).status_code == 200


def test_each_change_a_reader_sees_changes_the_etag_and_the_body(api, plan):
    first = detail(api, plan)
    run = agent_run_start(plan_id=plan.id, revision=1, agent="venue", task_id="t-1")
    assert run is not None
    started = detail(api, plan, **{"If-None-Match": first["ETag"]})
    assert started.status_code == 200 and started["ETag"] != first["ETag"]
    venue = next(r for r in started.json()["agent_runs"] if r["agent"] == "venue")
    assert venue["status"] == AgentRunStatus.RUNNING
    agent_run_finish(
        plan_id=plan.id, revision=1, agent="venue", status=AgentRunStatus.SUCCEEDED, result={"summary": "ok"}
    )
    finished = detail(api, plan)
    assert finished["ETag"] != started["ETag"]
    assert next(r for r in finished.json()["agent_runs"] if r["agent"] == "venue")["result"] == {"summary": "ok"}


def test_marking_the_dispatch_sent_bumps_the_version(api, plan):
    before = detail(api, plan)
    assert before.json()["dispatched_at"] is None
    assert dispatch_mark_sent(dispatch=PlanDispatch.objects.get(plan=plan))
    after = detail(api, plan, **{"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and after.json()["dispatched_at"] is not None
    assert after.json()["version"] == before.json()["version"] + 1


def test_a_repeated_get_costs_one_small_query(api, plan):
    detail(api, plan)
    plan_renderings_forget()  # this process forgot it: the shared cache still has it
    with CaptureQueriesContext(connection) as queries:
        response = detail(api, plan)
    assert response.status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert "result" not in queries[0]["sql"] and "version" in queries[0]["sql"]


def test_another_users_plan_is_not_found_even_with_its_etag(plan, other_user):
    etag = detail(client_for(plan.owner), plan)["ETag"]
    stranger = client_for(other_user)
    assert detail(stranger, plan).status_code == 404
    assert detail(stranger, plan, **{"If-None-Match": etag}).status_code == 404


def test_the_rendering_is_the_one_the_serializer_makes(api, plan):
    body = detail(api, plan).json()
    plan = selectors.plan_get_any(plan_id=plan.id)
    assert body == json.loads(JSONRenderer().render(plan_detail_data(plan, internals=False)))


def test_the_fast_renderer_writes_what_drf_writes(plan):
    plan = selectors.plan_get_any(plan_id=plan.id)
    data = {**plan_detail_data(plan, internals=True), "at": plan.created_at, "n": {1: "x"}, "text": "café ✓"}
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)
    assert FastJSONRenderer().render(None) == b""
    indented = FastJSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert indented == JSONRenderer().render({"a": 1}, "application/json; indent=2")


def test_etag_matching(monkeypatch):
    etag = plan_etag(version=3, event_seq=7, internals=False)
    assert etag == '"3-7-r1"' and plan_etag(version=3, event_seq=7, internals=True) == '"3-7-r1-i"'
    assert etag_matches('"3-7-r1"', etag) and etag_matches('W/"3-7-r1"', etag) and etag_matches("*", etag)
    assert not etag_matches(None, etag) and not etag_matches('"3-7-r1-i"', etag) and not etag_matches('"3"', etag)
    monkeypatch.setattr(renderers, "RENDERING_SCHEMA", 2)
    assert not etag_matches(etag, plan_etag(version=3, event_seq=7, internals=False)), "a new shape: no 304"


def test_a_new_rendering_schema_renders_again_and_answers_200_to_the_old_etag(api, plan, monkeypatch):
    before = detail(api, plan)
    monkeypatch.setattr(renderers, "RENDERING_SCHEMA", RENDERING_SCHEMA + 1)
    after = detail(api, plan, **{"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and after["ETag"] != before["ETag"] and after.json() == before.json()
    assert detail(api, plan, **{"If-None-Match": after["ETag"]}).status_code == 304


def test_the_list_reads_only_the_columns_it_shows(api, plan):
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/plans/")
    assert response.status_code == 200 and response.json()["results"][0]["id"] == str(plan.id)
    assert len(queries) == 1  # no user query either
    assert '"result"' not in queries[0]["sql"] and '"brief"' not in queries[0]["sql"]


class DrfPlanSummarySerializer(serializers.ModelSerializer):
    """The list's fields as DRF renders them, field by field."""

    class Meta:
        model = Plan
        fields = PlanSummarySerializer.Meta.fields


def test_the_list_lines_are_what_drfs_fields_write(catalog, user, plan, settings):
    ended = orchestration.plan_create(owner=user, text="A quiet dinner for 8 in Denver")
    Plan.objects.filter(pk=ended.pk).update(status="complete", finished_at=timezone.now())
    for zone in ("UTC", "America/Chicago"):
        settings.TIME_ZONE = zone
        for one in Plan.objects.filter(pk__in=[plan.pk, ended.pk]):
            expected = DrfPlanSummarySerializer(one).data
            assert PlanSummarySerializer(one).data == expected
            row = Plan.objects.filter(pk=one.pk).values(*PlanSummarySerializer.Meta.fields).get()
            assert PlanSummarySerializer(row).data == expected
    line = PlanSummarySerializer(Plan.objects.get(pk=ended.pk)).data
    assert line["finished_at"] is not None and not line["finished_at"].endswith("Z"), "in Chicago's time"


def test_the_list_pages_through_rows_with_its_cursor(catalog, api, user):
    created = [orchestration.plan_create(owner=user, text=f"Dinner for {n} in Austin").id for n in (4, 6, 8)]
    first = api.get("/api/v1/plans/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert [line["id"] for line in first["results"] + second["results"]] == [str(pk) for pk in reversed(created)]
    assert second["next"] is None


# --- Stateless JWT -------------------------------------------------------------------------------------------


def access_of(client: APIClient) -> str:
    return client._credentials["HTTP_AUTHORIZATION"].split()[1]


def test_the_access_token_carries_the_role_permissions(user, support_user):
    assert AccessToken(access_of(client_for(user)))[PERMISSIONS_CLAIM] == []
    claims = AccessToken(access_of(client_for(support_user)))
    assert set(claims[PERMISSIONS_CLAIM]) == {"api.read_any_plan", "api.see_internals"}
    assert claims["username"] == "sam-support" and claims["staff"] is False


def test_staff_may_watch_any_plans_events_and_losing_the_flag_revokes(plan):
    staff_user = user_create("stella", is_staff=True)
    staff = client_for(staff_user)
    assert staff.get(f"/api/v1/plans/{plan.id}/events/").status_code == 200
    staff_user.is_staff = False
    staff_user.save(update_fields=["is_staff"])
    assert staff.get(f"/api/v1/plans/{plan.id}/events/").status_code == 401
    assert client_for(staff_user).get(f"/api/v1/plans/{plan.id}/events/").status_code == 404


def test_a_role_removed_revokes_the_tokens_issued_before(plan, support_user):
    staff = client_for(support_user)
    assert detail(staff, plan).status_code == 200
    support_user.groups.remove(Group.objects.get(name="support"))
    refused = detail(staff, plan)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
    assert detail(client_for(support_user), plan).status_code == 404  # a new token: no longer support


def test_a_refreshed_access_token_has_the_roles_of_now(plan, user):
    client = APIClient()
    tokens = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": "a-long-test-password"}, format="json"
    ).json()
    user.groups.add(Group.objects.get(name="support"))
    fresh = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json").json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
    assert detail(client, plan)["ETag"].endswith('-i"')


def test_a_deactivated_user_is_refused_at_once_and_cannot_refresh(user):
    client = APIClient()
    tokens = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": "a-long-test-password"}, format="json"
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/v1/plans/").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/api/v1/plans/").status_code == 401
    refresh = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refresh.status_code == 401


def test_a_password_change_or_deletion_revokes(user, other_user):
    alice, bob = client_for(user), client_for(other_user)
    user.set_password("another-long-password")
    user.save(update_fields=["password"])
    assert alice.get("/api/v1/plans/").status_code == 401
    other_user.delete()
    assert bob.get("/api/v1/plans/").status_code == 401


def test_a_revocation_made_by_another_process_is_seen_within_the_refresh_interval(user, settings):
    client = client_for(user)
    assert client.get("/api/v1/plans/").status_code == 200
    _Revocations().add(user.pk)  # another web process: this one has not heard of it yet
    assert client.get("/api/v1/plans/").status_code == 200
    settings.API_REVOCATIONS_REFRESH = 0
    assert client.get("/api/v1/plans/").status_code == 401


def test_saving_only_the_last_login_revokes_nothing(user):
    client = client_for(user)
    user.save(update_fields=["last_login"])
    assert client.get("/api/v1/plans/").status_code == 200


def test_a_token_without_the_permissions_claim_is_checked_against_the_database(user):
    old_style = str(RefreshToken.for_user(user).access_token)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {old_style}")
    assert client.get("/api/v1/plans/").status_code == 200
    type(user).objects.filter(pk=user.pk).update(is_active=False)  # no signal: the database still says no
    assert client.get("/api/v1/plans/").status_code == 401


def test_a_plan_created_with_a_stateless_user_is_owned_and_audited(catalog, api, user):
    response = api.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json")
    assert response.status_code in (201, 202)
    assert Plan.objects.get(pk=response.json()["id"]).owner_id == user.pk


# --- Throttle -------------------------------------------------------------------------------------------------


def test_the_sliding_window_counts_the_previous_window_by_its_share():
    key = "partyplanner:throttle:test:one"
    # 1000 s is 40 s into the window 960-1020: three requests fit, the fourth does not.
    assert [window_hit(key=key, now=1000.0, limit=3, window=60)[0] for _ in range(4)] == [True, True, True, False]
    # Half-way into the next window the previous three count as 1.5: one more fits, a second does not.
    assert window_hit(key=key, now=1050.0, limit=3, window=60) == (True, 1, 3, pytest.approx(30.0))
    assert not window_hit(key=key, now=1050.0, limit=3, window=60)[0]
    # Near the end of it the previous window has almost slid out.
    assert window_hit(key=key, now=1079.0, limit=3, window=60)[0]


def test_a_user_over_the_rate_is_refused_with_retry_after(api, monkeypatch):
    monkeypatch.setattr(UserOrKeyThrottle, "THROTTLE_RATES", {"user": "3/min"})
    statuses = [api.get("/api/v1/plans/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get("/api/v1/plans/")
    assert refused.json()["error"]["code"] == "throttled" and 1 <= int(refused["Retry-After"]) <= 120


def test_a_scoped_throttle_counts_per_user(catalog, user, other_user, monkeypatch):
    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", {"plan_create": "1/min", "token": "100/min"})
    alice, bob = client_for(user), client_for(other_user)
    assert alice.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").status_code in (201, 202)
    assert alice.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").status_code == 429
    assert bob.post("/api/v1/plans/", {"text": KIDS_PARTY}, format="json").status_code in (201, 202)


def test_the_schema_documents_the_etag_and_304(api):
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/plans/{plan_id}/"]["get"]
    assert "304" in operation["responses"]
    assert "ETag" in operation["responses"]["200"]["headers"]
    assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in operation["parameters"])


def test_a_deleted_user_cannot_refresh(user):
    tokens = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": user.username, "password": "a-long-test-password"}, format="json")
        .json()
    )
    user.delete()
    refresh = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refresh.status_code == 401


def test_a_verified_token_is_not_verified_again_but_its_expiry_and_revocation_still_count(user, monkeypatch):
    client = client_for(user)
    assert client.get("/api/v1/plans/").status_code == 200
    verifications = []
    real_verify = AccessToken.verify
    monkeypatch.setattr(AccessToken, "verify", lambda token: verifications.append(1) or real_verify(token))
    assert client.get("/api/v1/plans/").status_code == 200
    assert verifications == [], "the same token again: no second signature check"
    monkeypatch.undo()
    short = RoleRefreshToken.for_user(user).access_token
    short.set_exp(lifetime=timedelta(minutes=1))
    brief = APIClient()
    brief.credentials(HTTP_AUTHORIZATION=f"Bearer {short}")
    assert brief.get("/api/v1/plans/").status_code == 200
    assert str(short).encode() in verified_tokens.tokens
    a_minute_later = aware_utcnow() + timedelta(minutes=1, seconds=1)
    for module in (authentication, simplejwt_tokens):  # the cache's clock and a fresh verification's
        monkeypatch.setattr(module, "aware_utcnow", lambda: a_minute_later)
    assert brief.get("/api/v1/plans/").status_code == 401, "expired while cached"
    assert str(short).encode() not in verified_tokens.tokens
    monkeypatch.undo()
    fresh = client_for(user)
    assert fresh.get("/api/v1/plans/").status_code == 200
    tokens_revoke(user_id=user.pk)
    assert fresh.get("/api/v1/plans/").status_code == 401, "revoked while cached"


def test_a_forged_token_is_refused_whatever_the_cache_holds(user):
    client = client_for(user)
    assert client.get("/api/v1/plans/").status_code == 200
    header, payload, signature = access_of(client).split(".")
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.{signature[:-4]}AAAA")
    assert forged.get("/api/v1/plans/").status_code == 401


def test_the_cache_of_verified_tokens_is_bounded():
    cache = type(verified_tokens)(size=2)
    for raw in (b"a", b"b", b"c"):
        cache.put(raw, AccessToken())
    assert list(cache.tokens) == [b"b", b"c"]

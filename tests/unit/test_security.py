"""API hardening: one error shape on every error path, bounded input, roles, API keys, limits, headers, audit."""

import base64
import io
import json
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from agents import services
from api.exceptions import api_exception_handler, bad_request, csrf_failure, permission_denied
from api.fields import date_range_pattern, date_window
from api.ip import client_ip
from api.models import ApiKey, AuditAction, AuditEntry
from api.parsers import BoundedJSONParser, json_depth
from api.services import api_key_authenticate, api_key_create, api_key_revoke
from api.throttling import AnonThrottle, ScopedThrottle
from planning.models import AgentRun, AgentRunStatus
from tests.conftest import client_for, user_create

pytestmark = pytest.mark.django_db

PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200"
PASSWORD = "a-long-test-password"
ACCEPTED = (201, 202)  # 202 when the plan waits in the dispatch outbox (here: no commit, so no dispatch)


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def with_role(user, role: str):
    user.groups.add(Group.objects.get(name=role))
    return user


# --- never a 500 for client input; one error shape ----------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/auth/token/refresh/", "/api/v1/auth/logout/"])
def test_deeply_nested_bodies_get_400_on_anonymous_endpoints(path):
    response = APIClient().post(path, nested(1000), content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "parse_error"


def test_deeply_nested_bodies_get_400_on_plans(api):
    body = '{"text": "party", "theme_preferences": ' + nested(5000) + "}"
    response = api.post("/api/v1/plans/", body, content_type="application/json")
    assert response.status_code == 400 and "nested deeper" in error_of(response)["message"]


def test_nesting_is_counted_outside_strings_only():
    assert json_depth(b'{"a": "[[[[[[{{{{"}') == 1
    assert json_depth(b'[[{"a": [1, "\\"]"]}]]') == 4


@pytest.mark.parametrize("body", [b'{"text": "\\ud800"}', b'{"text": NaN}', b"\xff\xfe"])
def test_text_that_cannot_be_stored_is_a_parse_error(api, body):
    response = api.post("/api/v1/plans/", body, content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "parse_error"


def test_a_declared_body_over_the_limit_gets_413_before_it_is_read(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api.post("/api/v1/plans/", {"text": "x" * 200}, format="json")
    assert response.status_code == 413 and error_of(response)["code"] == "request_too_large"


def test_the_parser_refuses_a_body_over_the_limit_without_content_length(settings):
    from api.errors import RequestTooLarge

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    with pytest.raises(RequestTooLarge):
        BoundedJSONParser().parse(io.BytesIO(b'{"text": "a long party"}'))


def test_djangos_own_errors_answer_json_under_api_and_pages_elsewhere(rf):
    too_big = bad_request(rf.post("/api/v1/plans/"), RequestDataTooBig())
    assert too_big.status_code == 413 and json.loads(too_big.content)["error"]["code"] == "request_too_large"
    assert bad_request(rf.post("/admin/login/"), RequestDataTooBig()).status_code == 413
    assert json.loads(bad_request(rf.get("/api/v1/x"), None).content)["error"]["code"] == "bad_request"
    denied = permission_denied(rf.get("/api/v1/x"), None)
    assert denied.status_code == 403 and json.loads(denied.content)["error"]["code"] == "permission_denied"
    csrf = csrf_failure(rf.post("/api/v1/x"), "no token")
    assert csrf.status_code == 403 and json.loads(csrf.content)["error"]["code"] == "csrf_failed"
    assert b"<html" in bad_request(rf.get("/admin/"), None).content.lower()


def test_a_disallowed_host_gets_the_json_400():
    response = Client().get("/api/v1/health/", HTTP_HOST="evil.example")
    assert response.status_code == 400 and error_of(response)["code"] == "bad_request"


def test_unknown_api_routes_get_json_404_and_other_routes_a_page():
    assert error_of(Client().get("/api/v1/nowhere/"))["code"] == "not_found"
    assert Client().get("/nowhere/").status_code == 404


def test_a_401_message_is_a_sentence_not_a_repr(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    error = error_of(client.get("/api/v1/plans/"))
    assert error["code"] == "token_not_valid" and "{" not in error["message"]


def test_orm_validation_errors_become_400():
    response = api_exception_handler(DjangoValidationError({"date": ["bad"]}), {})
    assert response.status_code == 400 and response.data["error"]["fields"] == {"date": ["bad"]}


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        base64.b64encode(b"p=not-a-date").decode(),
        base64.b64encode(b"o=-5&p=2026-01-01").decode(),
        base64.b64encode(b"p=2026-13-45 99:00:00").decode(),
        base64.b64encode(urlencode({"p": "\x00"}).encode()).decode(),
    ],
)
def test_malformed_cursors_get_404_not_500(api, cursor):
    response = api.get("/api/v1/plans/", {"cursor": cursor})
    assert response.status_code == 404 and error_of(response)["message"] == "Invalid cursor"


@pytest.mark.parametrize("page_size", ["abc", "0", "101", "1.5", "-1", "²"])
def test_a_page_size_that_is_not_an_integer_in_range_gets_400(api, page_size):
    response = api.get("/api/v1/plans/", {"page_size": page_size})
    assert response.status_code == 400 and "page_size" in error_of(response)["fields"]


def test_a_valid_cursor_pages_through(catalog, api, user):
    for _ in range(3):
        services.plan_create(owner=user, text=PARTY)
    first = api.get("/api/v1/plans/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1


# --- the schema states what the server enforces -------------------------------------------------------


def test_the_date_pattern_matches_exactly_the_accepted_window():
    import datetime
    import re

    first, last = date_window()
    pattern = re.compile(date_range_pattern(first, last))
    assert pattern.match(first.isoformat()) and pattern.match(last.isoformat())
    assert not pattern.match((first - datetime.timedelta(days=1)).isoformat())
    assert not pattern.match((last + datetime.timedelta(days=1)).isoformat())
    assert pattern.match("2028-02-29") or not pattern.match("2027-02-29")
    assert not pattern.match("2027-02-30")


def test_every_operation_documents_its_errors_with_the_error_schema(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "413", "503"} <= set(responses), (method, path)
            for code, response in responses.items():
                if path == "/api/v1/ready/" and code == "503":
                    continue  # a probe's answer: the readiness report, not an error
                if code >= "400":
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error", (method, path, code)
    create = schema["paths"]["/api/v1/plans/"]["post"]
    assert {"401", "403", "415", "429"} <= set(create["responses"]) and create["requestBody"]["required"]
    body = schema["components"]["schemas"]["PlanCreateInputRequest"]
    assert body["additionalProperties"] is False and body["minProperties"] == 1
    assert body["properties"]["date"]["pattern"].startswith("^(?:")
    assert "401" in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]


def test_the_swagger_ui_comes_from_the_installed_package_without_inline_script():
    response = Client().get("/api/v1/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "<script>" not in html
    assert Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200


# --- client address and limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "6.6.6.6", "10.0.0.9"),
        (1, "6.6.6.6", "6.6.6.6"),
        (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),
        (2, "6.6.6.6, 1.2.3.4, 172.18.0.2", "1.2.3.4"),
        (3, "1.2.3.4", "1.2.3.4"),
    ],
)
def test_the_client_address_comes_only_from_trusted_proxies(rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.9")
    assert client_ip(request) == expected


def test_a_forged_forwarded_header_gets_no_fresh_budget(user, monkeypatch):
    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", {"token": "2/min"})
    client = APIClient()
    statuses = [
        client.post(
            "/api/v1/auth/token/",
            {"username": "alice", "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        ).status_code
        for attempt in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_anonymous_requests_are_limited_per_address(monkeypatch):
    monkeypatch.setattr(AnonThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    client = APIClient()
    responses = [client.get("/api/v1/docs/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") for n in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429] and int(responses[-1]["Retry-After"]) > 0
    assert APIClient(REMOTE_ADDR="10.9.9.9").get("/api/v1/docs/").status_code == 200


def login(username: str, password: str, address: str):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_failed_logins_lock_the_account_from_any_address(user, other_user, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "3/m"
    assert [login("alice", "guess", f"198.51.100.{n}").status_code for n in range(3)] == [401, 401, 401]
    locked = login("alice", PASSWORD, "198.51.100.77")
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert error_of(locked)["code"] == "throttled"
    assert login("bob", PASSWORD, "198.51.100.1").status_code == 200


def test_successful_logins_do_not_count_against_the_account(user, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "2/m"
    assert [login("alice", PASSWORD, "198.51.100.1").status_code for _ in range(4)] == [200] * 4


def test_the_admin_login_is_limited_per_address_and_per_account(user, settings):
    settings.ADMIN_LOGIN_RATE = "2/m"
    client = Client(REMOTE_ADDR="192.0.2.1")
    statuses = [client.post("/admin/login/", {"username": "x", "password": "y"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    settings.ADMIN_LOGIN_RATE = "100/m"
    settings.LOGIN_FAILURES_PER_ACCOUNT = "2/m"
    for n in range(2):
        Client(REMOTE_ADDR=f"192.0.2.{10 + n}").post("/admin/login/", {"username": "alice", "password": "nope"})
    locked = Client(REMOTE_ADDR="192.0.2.50").post("/admin/login/", {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0


def test_logout_blacklists_the_refresh_token(user):
    client = APIClient()
    tokens = client.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json").json()
    assert client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    refused = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refused.status_code == 401
    again = client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401 and again.has_header("WWW-Authenticate")


def test_token_inputs_are_strict(user):
    client = APIClient()
    assert client.post("/api/v1/auth/token/", {"username": 1, "password": "x"}, format="json").status_code == 400
    extra = {"username": "alice", "password": PASSWORD, "admin": True}
    assert client.post("/api/v1/auth/token/", extra, format="json").status_code == 400
    assert client.post("/api/v1/auth/token/refresh/", {"refresh": " "}, format="json").status_code == 400


# --- roles ---------------------------------------------------------------------------------------------


@pytest.fixture
def failed_plan(catalog, other_user):
    plan = services.plan_create(owner=other_user, text=PARTY)
    AgentRun.objects.filter(plan=plan, agent="venue").update(
        status=AgentRunStatus.FAILED, error="ConnectionError: catalog at 10.0.0.5:5432 refused"
    )
    return plan


def test_owners_see_a_friendly_agent_error_and_support_the_raw_one(failed_plan, other_user, user):
    owner_view = client_for(other_user).get(f"/api/v1/plans/{failed_plan.id}/").json()
    venue = next(run for run in owner_view["agent_runs"] if run["agent"] == "venue")
    assert venue["error"] == "This part of the plan could not be prepared."
    support = client_for(with_role(user, "support")).get(f"/api/v1/plans/{failed_plan.id}/")
    venue = next(run for run in support.json()["agent_runs"] if run["agent"] == "venue")
    assert support.status_code == 200 and "10.0.0.5" in venue["error"]


def test_the_final_plan_shows_owners_friendly_failures_only(catalog, other_user):
    plan = services.plan_create(owner=other_user, text=PARTY)
    plan.result = {"status": "partial", "failures": {"venue": "Gave up after 4 attempts: OSError 10.0.0.5"}}
    plan.save(update_fields=["result"])
    body = client_for(other_user).get(f"/api/v1/plans/{plan.id}/").json()
    assert "10.0.0.5" not in json.dumps(body) and body["result"]["failures"]["venue"]


def test_a_plain_user_cannot_read_anyone_elses_plan(failed_plan, user):
    assert client_for(user).get(f"/api/v1/plans/{failed_plan.id}/").status_code == 404


OPS = [
    ("get", "/api/v1/ops/faults/", None),
    ("put", "/api/v1/ops/faults/venue/", {"error_rate": 0.5}),
    ("delete", "/api/v1/ops/faults/venue/", None),
    ("get", "/api/v1/ops/breakers/", None),
    ("post", "/api/v1/ops/breakers/venue/reset/", None),
]


@pytest.mark.parametrize("method, path, body", OPS)
@pytest.mark.parametrize("role, expected", [(None, 403), ("support", 403), ("operator", 200)])
def test_operator_endpoints_need_the_operator_role(user, method, path, body, role, expected):
    if role:
        with_role(user, role)
    response = getattr(client_for(user), method)(path, body, format="json")
    assert response.status_code in ((expected, 204) if expected == 200 else (expected,))
    assert getattr(APIClient(), method)(path, body, format="json").status_code == 401


def test_operators_set_and_clear_faults_and_reset_breakers_audited(user):
    client = client_for(with_role(user, "operator"))
    fault = client.put("/api/v1/ops/faults/venue/", {"error_rate": 0.25, "latency_ms": 10}, format="json")
    assert fault.status_code == 200 and fault.json()["error_rate"] == 0.25
    assert client.get("/api/v1/ops/faults/").json()["venue"]["error_rate"] == 0.25
    assert client.delete("/api/v1/ops/faults/venue/").status_code == 204
    assert "venue" not in client.get("/api/v1/ops/faults/").json()
    breakers = client.get("/api/v1/ops/breakers/").json()
    assert {b["name"] for b in breakers} == {"theme", "venue", "cake", "budget"}
    assert client.post("/api/v1/ops/breakers/cake/reset/").json()["state"] == "closed"
    assert client.put("/api/v1/ops/faults/planner/", {}, format="json").status_code == 404
    for bad in ({"error_rate": 2}, {"error_rate": "0.5"}, {"error_rate": True}, {"ignore_soft_limit": "true"}):
        assert client.put("/api/v1/ops/faults/venue/", bad, format="json").status_code == 400, bad
    actions = AuditEntry.objects.filter(action=AuditAction.OPERATOR_ACTION, actor=user)
    assert sorted(actions.values_list("target", flat=True)) == ["breaker cake", "fault venue", "fault venue"]
    assert all(entry.ip == "127.0.0.1" for entry in actions)


def test_the_role_groups_hold_their_permissions(user):
    with_role(user, "operator")
    assert user.has_perm("api.operate") and user.has_perm("planning.change_venue")
    assert not user_create().has_perm("api.read_any_plan")


# --- API keys ------------------------------------------------------------------------------------------


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


def test_a_key_is_shown_once_and_stored_hashed(user):
    key, raw_key = api_key_create(user=user, name="crm", scopes=["read"])
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw_key.startswith(stored.prefix + ".") and raw_key.split(".", 1)[1] not in stored.hashed_key
    assert api_key_authenticate(raw_key=raw_key) == (user, stored)
    assert api_key_authenticate(raw_key=raw_key + "x") is None
    assert api_key_authenticate(raw_key="no-dot") is None


def test_key_scopes_decide_reads_and_creates(catalog, user):
    _, reader = api_key_create(user=user, name="reader", scopes=["read"])
    _, writer = api_key_create(user=user, name="writer", scopes=["create"])
    assert key_client(reader).get("/api/v1/plans/").status_code == 200
    assert error_of(key_client(reader).post("/api/v1/plans/", {"text": PARTY}, format="json"))["code"] == (
        "permission_denied"
    )
    created = key_client(writer).post("/api/v1/plans/", {"text": PARTY}, format="json")
    assert created.status_code in ACCEPTED
    assert key_client(writer).get("/api/v1/plans/").status_code == 403
    assert key_client(reader).get(f"/api/v1/plans/{created.json()['id']}/").status_code == 200


def test_a_revoked_key_is_refused_and_last_use_is_recorded(user):
    key, raw_key = api_key_create(user=user, name="crm", scopes=["read"])
    assert key_client(raw_key).get("/api/v1/plans/").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None
    api_key_revoke(key=key)
    response = key_client(raw_key).get("/api/v1/plans/")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "invalid_api_key"


def test_a_key_never_carries_a_role(user):
    with_role(user, "operator")
    _, raw_key = api_key_create(user=user, name="ops", scopes=["read", "create"])
    assert key_client(raw_key).get("/api/v1/ops/faults/").status_code == 403


def test_plan_creation_is_limited_per_key_apart_from_its_user(catalog, user, monkeypatch):
    monkeypatch.setattr(ScopedThrottle, "THROTTLE_RATES", {"plan_create": "1/min", "token": "100/min"})
    _, raw_key = api_key_create(user=user, name="crm", scopes=["create"])
    keyed = [key_client(raw_key).post("/api/v1/plans/", {"text": PARTY}, format="json") for _ in range(2)]
    assert keyed[0].status_code in ACCEPTED and keyed[1].status_code == 429 and keyed[1].has_header("Retry-After")
    assert client_for(user).post("/api/v1/plans/", {"text": PARTY}, format="json").status_code in ACCEPTED


def test_the_key_command_creates_lists_and_revokes(user, capsys):
    call_command("api_key", "create", "alice", "crm", "--scope", "read")
    raw_key = capsys.readouterr().out.strip()
    assert api_key_authenticate(raw_key=raw_key) is not None
    call_command("api_key", "list")
    prefix = raw_key.split(".")[0]
    assert prefix in capsys.readouterr().out and raw_key not in ApiKey.objects.get(prefix=prefix).hashed_key
    call_command("api_key", "revoke", prefix)
    assert api_key_authenticate(raw_key=raw_key) is None
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == [AuditAction.KEY_CREATED, AuditAction.KEY_REVOKED]


def test_the_key_command_refuses_unknown_users_and_prefixes(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("api_key", "create", "nobody", "crm", "--scope", "read")
    with pytest.raises(CommandError):
        call_command("api_key", "revoke", "nope")


def test_unknown_scopes_are_refused(user):
    with pytest.raises(ValueError):
        api_key_create(user=user, name="x", scopes=["delete"])


def test_keys_are_created_in_admin_shown_once_and_revoked_audited(user):
    admin = user_create("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/api/apikey/add/", {"name": "crm", "user": user.pk, "scopes": '["read"]'}, follow=True
    )
    key = ApiKey.objects.get(name="crm")
    assert f"{key.prefix}." in response.content.decode()
    client.post(
        f"/admin/api/apikey/{key.pk}/change/",
        {"name": "crm", "user": user.pk, "scopes": '["read"]', "revoked": "on"},
    )
    key.refresh_from_db()
    assert key.revoked
    audit = AuditEntry.objects.filter(actor=admin).values_list("action", flat=True)
    assert {AuditAction.KEY_CREATED, AuditAction.KEY_REVOKED} <= set(audit)


# --- headers -------------------------------------------------------------------------------------------


def test_html_pages_carry_a_strict_content_security_policy():
    for path in ("/admin/login/", "/api/v1/docs/"):
        policy = Client().get(path)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy


def test_api_responses_are_not_stored_by_caches(api):
    assert "no-store" in api.get("/api/v1/plans/")["Cache-Control"]
    assert "no-store" in APIClient().get("/api/v1/plans/")["Cache-Control"]
    plan = api.post("/api/v1/plans/", {"text": "a picnic in Austin for 10"}, format="json").json()
    detail = api.get(f"/api/v1/plans/{plan['id']}/")
    assert detail.has_header("ETag") and set(detail["Cache-Control"].split(", ")) == {"private", "no-cache"}


def test_cors_allows_only_listed_origins(api, settings):
    assert not api.get("/api/v1/plans/", HTTP_ORIGIN="https://evil.example").has_header("Access-Control-Allow-Origin")
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    allowed = api.get("/api/v1/plans/", HTTP_ORIGIN="https://app.example")
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example"
    assert not api.get("/api/v1/plans/", HTTP_ORIGIN="https://evil.example").has_header("Access-Control-Allow-Origin")


def test_security_headers_are_set(api):
    response = api.get("/api/v1/plans/")
    assert response["X-Content-Type-Options"] == "nosniff" and response["Referrer-Policy"] == "same-origin"


# --- audit ---------------------------------------------------------------------------------------------


def test_logins_and_failed_logins_are_audited_with_their_address(user):
    login("alice", PASSWORD, "198.51.100.4")
    login("alice", "nope", "198.51.100.5")
    login("mallory", "nope", "198.51.100.6")
    entries = list(AuditEntry.objects.order_by("id").values_list("action", "actor_name", "ip"))
    assert entries == [
        (AuditAction.LOGIN, "alice", "198.51.100.4"),
        (AuditAction.LOGIN_FAILED, "alice", "198.51.100.5"),
        (AuditAction.LOGIN_FAILED, "mallory", "198.51.100.6"),
    ]


def test_admin_logins_and_role_changes_are_audited(user):
    admin = user_create("root", is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR="192.0.2.8")
    client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    support = Group.objects.get(name="support")
    response = client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": "alice",
            "groups": [support.pk],
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    change = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED)
    assert change.actor == admin and change.details["after"]["groups"] == ["support"]
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN, actor=admin, ip="192.0.2.8").exists()


def test_the_audit_log_is_read_only_in_admin(user):
    admin = user_create("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/api/auditentry/").status_code == 200
    assert client.get("/admin/api/auditentry/add/").status_code == 403


def test_api_key_admin_forbids_deleting(user):
    admin = user_create("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    key, _ = api_key_create(user=user, name="crm", scopes=["read"])
    assert client.get(f"/admin/api/apikey/{key.pk}/delete/").status_code == 403


def test_operators_replay_dead_letters_in_the_api_and_the_admin_audited(user):
    from planning.models import DeadLetter, Plan

    operator = with_role(user_create("ops", is_staff=True), "operator")
    plan = Plan.objects.create(owner=user, request_text=PARTY)
    letters = [
        DeadLetter.objects.create(task_name="agents.venue", reason="exhausted", error="x", agent="venue", plan=plan)
        for _ in range(2)
    ]
    replayed = client_for(operator).post(f"/api/v1/ops/dead-letters/{letters[0].pk}/replay/")
    assert replayed.status_code == 200 and replayed.json()["outcome"].startswith("nothing to do")
    _, raw_key = api_key_create(user=operator, name="ops", scopes=["read", "create"])
    assert key_client(raw_key).get("/api/v1/ops/dead-letters/").status_code == 403
    admin = Client()
    admin.force_login(operator)
    assert admin.get("/admin/planning/deadletter/").status_code == 200
    admin.post("/admin/planning/deadletter/", {"action": "replay", "_selected_action": [letters[1].pk]}, follow=True)
    targets = AuditEntry.objects.filter(action=AuditAction.OPERATOR_ACTION, actor=operator).values_list(
        "target", flat=True
    )
    assert sorted(targets) == [f"dead letter {letters[0].pk}", f"dead letter {letters[1].pk}"]


@pytest.mark.django_db(transaction=True)
def test_the_role_groups_survive_a_flush():
    call_command("flush", interactive=False, verbosity=0)
    assert set(Group.objects.values_list("name", flat=True)) >= {"support", "operator"}
    assert Group.objects.get(name="operator").permissions.filter(codename="operate").exists()

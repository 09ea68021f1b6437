"""Admission: each user runs a bounded number of plans at once; the rest wait in the database and are
admitted in fair order across users as plans end. Publishing is recorded at the broker boundary, so plans
stay running until a test ends them."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from agents import services as orchestration
from planning import selectors
from planning.models import AgentRun, Plan, PlanDispatch, PlanEvent
from tests.conftest import client_for, user_create
from tests.query_plans import query_plan, rows_read

pytestmark = pytest.mark.django_db(transaction=True)

PARTY = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"


@pytest.fixture(autouse=True)
def published(monkeypatch):
    """The plans whose chords were handed to the broker, in order (the broker itself is not involved)."""
    sent: list[str] = []
    monkeypatch.setattr(orchestration, "pipeline_dispatch", lambda *, plan_id, graph, revision: sent.append(plan_id))
    orchestration._breaker = None
    yield sent
    orchestration._breaker = None


def submit(owner, count: int = 1) -> list:
    return [orchestration.plan_create(owner=owner, text=PARTY).id for _ in range(count)]


def states(plan_ids) -> list[str]:
    by_plan = dict(PlanDispatch.objects.filter(plan_id__in=plan_ids).values_list("plan_id", "state"))
    return [by_plan[plan_id] for plan_id in plan_ids]


def end(plan_id) -> None:
    """The plan ends as the FinalPlanner ends it; its slot is freed after commit."""
    assert orchestration.plan_finalize(plan_id=plan_id).is_terminal


@override_settings(PLAN_ADMISSION_PER_USER=2, PLAN_ADMISSION_TOTAL=0)
def test_a_user_runs_at_most_their_cap_and_the_rest_wait_unpublished(catalog, user, published):
    ids = submit(user, 5)

    assert states(ids) == ["sent", "sent", "waiting", "waiting", "waiting"]
    assert published == [str(plan_id) for plan_id in ids[:2]]
    assert set(Plan.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"running"}
    waiting = PlanEvent.objects.get(plan_id=ids[2], type="plan.waiting")
    assert waiting.payload == {"user_cap": 2, "total_cap": None}
    assert not PlanEvent.objects.filter(plan_id=ids[0], type="plan.waiting").exists()


@override_settings(PLAN_ADMISSION_PER_USER=2, PLAN_ADMISSION_TOTAL=0)
def test_another_users_plan_runs_at_once_while_a_flood_waits(catalog, user, other_user, published):
    submit(user, 6)
    (mine,) = submit(other_user)

    assert states([mine]) == ["sent"]
    assert published[-1] == str(mine)
    assert Plan.objects.get(pk=mine).admitted_at is not None


@override_settings(PLAN_ADMISSION_PER_USER=2, PLAN_ADMISSION_TOTAL=0)
def test_an_ending_plan_admits_its_owners_next_in_order_and_publishes_it(catalog, user, published):
    ids = submit(user, 4)
    end(ids[0])

    assert states(ids) == ["sent", "sent", "sent", "waiting"]
    assert published == [str(plan_id) for plan_id in ids[:3]]
    admitted = PlanEvent.objects.get(plan_id=ids[2], type="plan.admitted")
    assert admitted.payload["waited_ms"] >= 0
    types = list(PlanEvent.objects.filter(plan_id=ids[2]).order_by("seq").values_list("type", flat=True))
    assert types[-2:] == ["plan.waiting", "plan.admitted"]
    assert [event.seq for event in PlanEvent.objects.filter(plan_id=ids[2]).order_by("seq")] == list(
        range(1, len(types) + 1)
    )

    end(ids[1])
    end(ids[2])
    assert states(ids) == ["sent"] * 4
    assert len(published) == 4


@override_settings(PLAN_ADMISSION_PER_USER=4, PLAN_ADMISSION_TOTAL=2)
def test_global_slots_go_round_robin_to_the_user_running_least(catalog, published):
    alice, bob, carol = user_create("alice"), user_create("bob"), user_create("carol")
    a1, a2, a3, a4 = submit(alice, 4)
    (b1,) = submit(bob)
    (c1,) = submit(carol)
    assert states([a1, a2, a3, a4, b1, c1]) == ["sent", "sent", "waiting", "waiting", "waiting", "waiting"]

    positions = {
        plan_id: selectors.plan_admission(plan=Plan.objects.get(pk=plan_id))["position"] for plan_id in (a3, a4, b1, c1)
    }
    assert positions == {b1: 1, c1: 2, a3: 3, a4: 4}

    end(a1)  # alice runs 1, bob and carol none: bob's turn (older than carol's)
    assert states([a3, b1, c1]) == ["waiting", "sent", "waiting"]
    end(a2)  # alice, bob and carol would each take their first slot: the oldest, alice's, goes
    assert states([a3, a4, c1]) == ["sent", "waiting", "waiting"]
    end(b1)  # carol's first slot goes before alice's second
    assert states([a4, c1]) == ["waiting", "sent"]
    assert published == [str(plan_id) for plan_id in (a1, a2, b1, a3, c1)]


@override_settings(PLAN_ADMISSION_PER_USER=4, PLAN_ADMISSION_TOTAL=2)
def test_a_new_plan_does_not_take_a_freed_slot_from_a_plan_waiting_ahead_of_it(catalog, published):
    alice, bob = user_create("alice"), user_create("bob")
    a1, _a2 = submit(alice, 2)
    (b1,) = submit(bob)
    # A slot is free, but nobody has admitted the waiting plan yet (the hook is the sweeper's job here).
    Plan.objects.filter(pk=a1).update(status="complete")
    (a3,) = submit(alice)

    assert states([b1, a3]) == ["waiting", "waiting"]
    assert orchestration.dispatch_sweep()["admitted"] == 1
    assert states([b1, a3]) == ["sent", "waiting"]


@override_settings(PLAN_ADMISSION_PER_USER=1, PLAN_ADMISSION_TOTAL=0)
def test_the_sweeper_admits_what_a_missed_hook_left_and_drops_the_dispatches_of_ended_plans(catalog, user, published):
    first, second, third = submit(user, 3)
    Plan.objects.filter(pk=first).update(status="complete")  # ended without the hook (a crash after commit)
    Plan.objects.filter(pk=third).update(status="cancelled")

    counts = orchestration.dispatch_sweep()

    assert counts["admitted"] == 1
    assert states([first, second, third]) == ["sent", "sent", "cancelled"]
    assert published == [str(first), str(second)]


@override_settings(PLAN_ADMISSION_PER_USER=1, PLAN_ADMISSION_TOTAL=0)
def test_a_waiting_plan_is_never_seen_as_stalled(catalog, user, published):
    running, waiting = submit(user, 2)
    long_ago = timezone.now() - timedelta(hours=1)
    Plan.objects.filter(pk__in=[running, waiting]).update(updated_at=long_ago)

    assert selectors.plans_stalled(before=timezone.now(), limit=10) == [running]
    counts = orchestration.plan_reconcile(stalled_after=timedelta(seconds=1), max_redrives=3)
    assert counts["stalled"] == 1
    assert PlanDispatch.objects.filter(plan_id=waiting).count() == 1


@override_settings(PLAN_ADMISSION_PER_USER=1, PLAN_ADMISSION_TOTAL=0)
def test_an_admitted_plan_bumps_its_progress_so_the_reconciler_gives_it_a_full_window(catalog, user, published):
    first, second = submit(user, 2)
    Plan.objects.filter(pk=second).update(updated_at=timezone.now() - timedelta(hours=1))
    end(first)

    assert Plan.objects.get(pk=second).updated_at > timezone.now() - timedelta(minutes=1)
    assert selectors.plans_stalled(before=timezone.now() - timedelta(seconds=30), limit=10) == []


@override_settings(PLAN_ADMISSION_PER_USER=1, PLAN_ADMISSION_TOTAL=0)
def test_a_retry_of_an_ended_plan_is_admitted_anew_and_waits_while_its_owner_is_at_the_cap(catalog, user, published):
    (first,) = submit(user)
    AgentRun.objects.filter(plan_id=first, agent="venue").update(status="failed", error="boom")
    AgentRun.objects.filter(plan_id=first).exclude(agent="venue").update(status="succeeded", result={"summary": "s"})
    end(first)
    (second,) = submit(user)  # takes the user's only slot, which the ended plan gave up
    assert states([second]) == ["sent"]

    outcome = orchestration.plan_retry(plan_id=first, agents=["venue"])

    assert outcome.number == 2 and "venue" in outcome.reran
    retry = PlanDispatch.objects.filter(plan_id=first).latest("id")
    assert (retry.reason, retry.state) == ("retry", "waiting")
    assert published[-1] == str(second), "nothing published beyond the cap"
    assert Plan.objects.get(pk=first).admitted_at is None
    assert PlanEvent.objects.filter(plan_id=first, type="plan.waiting").exists()
    end(second)
    retry.refresh_from_db()
    assert retry.state == "sent" and published[-1] == str(first)
    assert Plan.objects.get(pk=first).admitted_at is not None


@override_settings(PLAN_ADMISSION_PER_USER=2, PLAN_ADMISSION_TOTAL=0)
def test_edits_of_ended_plans_cannot_run_more_than_the_cap(catalog, user, published):
    ended = submit(user, 2)
    for plan_id in ended:
        end(plan_id)
    (running,) = submit(user)
    admitted_before = Plan.objects.get(pk=ended[0]).admitted_at

    for plan_id in ended:
        orchestration.plan_edit(plan_id=plan_id, author=user, fields={"guest_count": 12})

    edits = [PlanDispatch.objects.filter(plan_id=plan_id).latest("id") for plan_id in ended]
    assert [(edit.reason, edit.state) for edit in edits] == [("edit", "sent"), ("edit", "waiting")]
    assert Plan.objects.get(pk=ended[0]).admitted_at > admitted_before, "admitted anew, not on its old slot"
    assert Plan.objects.filter(owner=user, status="running", admitted_at__isnull=False).count() == 2
    end(running)
    assert PlanDispatch.objects.get(pk=edits[1].pk).state == "sent"


@override_settings(PLAN_ADMISSION_PER_USER=1, PLAN_ADMISSION_TOTAL=0)
def test_an_edit_of_a_running_plan_keeps_its_slot(catalog, user, published):
    (running,) = submit(user)
    admitted = Plan.objects.get(pk=running).admitted_at

    orchestration.plan_edit(plan_id=running, author=user, fields={"guest_count": 12})

    assert PlanDispatch.objects.filter(plan_id=running).latest("id").state == "sent"
    assert Plan.objects.get(pk=running).admitted_at == admitted


@override_settings(PLAN_ADMISSION_PER_USER=0, PLAN_ADMISSION_TOTAL=0)
def test_without_caps_every_plan_runs_at_once(catalog, user, published):
    ids = submit(user, 6)
    assert states(ids) == ["sent"] * 6
    assert all(Plan.objects.filter(pk__in=ids).values_list("admitted_at", flat=True))


@override_settings(PLAN_ADMISSION_PER_USER=2, PLAN_ADMISSION_TOTAL=0)
def test_the_api_answers_202_with_the_waiting_position_and_shows_the_callers_limits(catalog, user, published):
    client = client_for(user)
    answers = [client.post("/api/v1/plans/", {"text": PARTY}, format="json") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [201, 201, 202, 202]
    assert answers[0].json()["admission"]["state"] == "admitted"
    assert answers[3].json()["admission"] == {
        "state": "waiting",
        "position": 2,
        "user_position": 2,
        "user_cap": 2,
        "user_running": 2,
        "user_waiting": 2,
    }
    detail = client.get(f"/api/v1/plans/{answers[2].json()['id']}/").json()
    assert detail["admission"]["position"] == 1
    limits = client.get("/api/v1/limits/")
    assert limits.status_code == 200
    assert limits.json() == {
        "user_cap": 2,
        "user_running": 2,
        "user_waiting": 2,
        "total_cap": None,
        "total_running": 2,
    }


@override_settings(PLAN_ADMISSION_PER_USER=1, PLAN_ADMISSION_TOTAL=0)
def test_a_plan_that_ended_while_waiting_shows_no_admission(catalog, user, published):
    client = client_for(user)
    _, waiting = submit(user, 2)
    Plan.objects.filter(pk=waiting).update(status="cancelled")

    assert client.get(f"/api/v1/plans/{waiting}/").json()["admission"] is None


def backlog_make(owner, count: int) -> None:
    """`count` plans of `owner` waiting for admission, written directly (a flood, without its analysis)."""
    plans = Plan.objects.bulk_create([Plan(owner=owner, status="running") for _ in range(count)])
    now = timezone.now()
    PlanDispatch.objects.bulk_create(
        [PlanDispatch(plan=plan, reason="initial", graph={}, state="waiting", available_at=now) for plan in plans]
    )


@override_settings(PLAN_ADMISSION_PER_USER=2, PLAN_ADMISSION_TOTAL=0)
def test_whether_a_user_has_plans_waiting_is_answered_without_reading_the_backlog(user, other_user):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    backlog_make(user, 3000)
    backlog_make(other_user, 2)
    PlanDispatch.objects.filter(plan__owner=other_user).update(state="cancelled")
    read = {
        owner.username: rows_read(query_plan(selectors.ADMISSION_OWNER_SQL, {"owner": owner.pk}))
        for owner in (user, other_user)
    }

    assert read["alice"] <= 50 and read["bob"] <= 50, read  # a few rows, not 3,000 waiting plans
    assert selectors.admission_may_admit(owner_id=other_user.pk)
    assert not selectors.admission_may_admit(owner_id=user.pk)
    assert selectors.admission_usage(owner_id=user.pk)["user_waiting"] == 3000
    assert selectors.admission_usage(owner_id=other_user.pk)["user_waiting"] == 0

"""The page for people: sign in, describe a party, watch the agents live, read the plan and past plans.

Server-rendered with Django's session login and CSRF-protected forms; the page's script only listens
to the plan's WebSocket (authenticated by the same session) and swaps in server-rendered fragments.
The token API stays token-only, so it has no cookie-based surface to protect from CSRF.
"""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from agents import services
from api.serializers import PlanCreateInputSerializer
from events import selectors as event_selectors
from planning import selectors
from planning.models import AgentRunStatus, Plan

PAST_PLANS = 20
PAGE_EVENTS = 500
# What a person sees for each agent-run status (the stream's agent.* events map the same way).
AGENT_STATES = {
    AgentRunStatus.PENDING: "pending",
    AgentRunStatus.RUNNING: "running",
    AgentRunStatus.RETRYING: "retrying",
    AgentRunStatus.SUCCEEDED: "done",
    AgentRunStatus.FAILED: "failed",
    AgentRunStatus.TIMED_OUT: "failed",
    AgentRunStatus.CANCELLED: "cancelled",
}
EXAMPLE = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"


@login_required
@require_http_methods(["GET", "POST"])
def plan_list_page(request: HttpRequest) -> HttpResponse:
    """The form to describe a party, and the user's past plans."""
    errors: dict[str, Any] = {}
    text = ""
    if request.method == "POST":
        text = request.POST.get("text", "")
        serializer = PlanCreateInputSerializer(data={"text": text})
        if serializer.is_valid():
            plan = services.plan_create(owner=request.user, text=serializer.validated_data.get("text", ""))
            return redirect("web:plan-detail", plan_id=plan.id)
        errors = serializer.errors
    plans = selectors.plan_list(user=request.user).order_by("-created_at")[:PAST_PLANS]
    context = {"plans": plans, "errors": errors, "text": text, "example": EXAMPLE}
    return render(request, "web/plan_list.html", context, status=400 if errors else 200)


def _plan(request: HttpRequest, plan_id) -> Plan:
    try:
        event_selectors.plan_for_viewer(user=request.user, plan_id=plan_id)
    except Plan.DoesNotExist:
        raise Http404("No such plan among yours.") from None
    return selectors.plan_get_any(plan_id=plan_id)


@login_required
def plan_detail_page(request: HttpRequest, plan_id) -> HttpResponse:
    """One plan: its agents' live states, its event log and, once it has ended, the plan itself."""
    plan = _plan(request, plan_id)
    runs = [{"agent": run.agent, "state": AGENT_STATES[run.status], "run": run} for run in plan.current_runs]
    # The page shows the plan as of one moment, its last event `event_seq`; the script replays from there,
    # so events committed while the page renders are shown once, by the script.
    first = max(0, plan.event_seq - PAGE_EVENTS)
    events = event_selectors.plan_event_envelopes(plan_id=plan.id, after=first, limit=plan.event_seq - first)
    context = {"plan": plan, "runs": runs, "events": events, **plan_result_context(plan)}
    return render(request, "web/plan_detail.html", context)


@login_required
def plan_result_fragment(request: HttpRequest, plan_id) -> HttpResponse:
    """The finished plan as an HTML fragment, for the page's script to swap in."""
    plan = _plan(request, plan_id)
    return render(request, "web/_plan_result.html", {"plan": plan, **plan_result_context(plan)})


def plan_result_context(plan: Plan) -> dict[str, Any]:
    """What the result template shows: the picks, the budget bars, warnings and recommendations."""
    result = plan.result or {}
    return {"result": result, "bars": budget_bars(result.get("costs") or {})}


def budget_bars(costs: dict[str, Any]) -> list[dict[str, Any]]:
    """The budget breakdown as bars, each as a share of the budget (or of the total without one)."""
    parts = [(name, costs.get(key)) for name, key in (("Venue", "venue"), ("Theme", "theme"), ("Cake", "cake"))]
    parts.append(("Catering and reserve", costs.get("reserved")))
    if (costs.get("remaining") or 0) > 0:
        parts.append(("Left over", costs["remaining"]))
    parts = [(name, float(amount)) for name, amount in parts if amount]
    scale = float(costs.get("budget") or 0) or sum(amount for _, amount in parts) or 1.0
    return [
        {"label": name, "amount": amount, "percent": round(min(100.0, 100 * amount / scale), 1)}
        for name, amount in parts
    ]


def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:plan-list")

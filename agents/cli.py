"""What the `plan` and `demo` commands share: preparing the embedded default, waiting, printing."""

import contextlib
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from partyproject.embedded import EmbeddedServices, redis_use
from planning.models import City, Plan

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-party-2026"


def is_embedded() -> bool:
    """True when no Redis is configured: the commands then start their own broker and worker."""
    return not settings.REDIS_URL


def database_prepare() -> None:
    """Migrate, and load the catalog if it is empty (what a fresh embedded default needs)."""
    call_command("migrate", interactive=False, verbosity=0)
    if not City.objects.exists():
        call_command("seed_catalog", verbosity=0)


def demo_user_ensure(*, username: str = DEMO_USERNAME, password: str = DEMO_PASSWORD):
    """The demo account, created with `password` if missing."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


@contextlib.contextmanager
def pipeline_services(*, start_worker: bool, beat: bool = False) -> Iterator[EmbeddedServices]:
    """Start the embedded broker when none is configured, and a worker when asked (with the periodic
    reconciler when `beat`); stop them after."""
    embedded = is_embedded()
    with EmbeddedServices() as services:
        if embedded:
            redis_use(services.start_broker())
        if start_worker or embedded:
            schedule = settings.BASE_DIR / "var" / "celerybeat-schedule"
            services.start_worker(extra_args=["--beat", "--schedule", str(schedule)] if beat else (), supervise=True)
        yield services


def plan_wait(*, plan_id: UUID, timeout: float) -> Plan:
    """Poll the database until the plan has ended (the database is the source of truth)."""
    deadline = time.monotonic() + timeout
    while True:
        plan = Plan.objects.get(pk=plan_id)
        if plan.is_terminal or time.monotonic() > deadline:
            return plan
        time.sleep(0.2)


def plan_render(plan: Plan) -> str:
    """A plan as text for a terminal."""
    lines = [f"Plan {plan.id}: {plan.status.upper()}"]
    result: dict[str, Any] = plan.result or {}
    if not result:
        lines.append(plan.error or "No final plan yet.")
        return "\n".join(lines)
    lines.append(result["summary"])
    for category in ("venue", "theme", "cake"):
        pick = result.get(category)
        if pick:
            extra = f" from {pick['bakery']}, {'/'.join(pick['dietary']) or 'regular'}" if category == "cake" else ""
            lines.append(f"  {category.capitalize():<6} {pick['name']}{extra}: ${pick['cost']:,.2f}")
            lines.extend(f"           - {reason}" for reason in pick.get("reasons", []))
    costs = result["costs"]
    budget = f" of ${costs['budget']:,.0f} budget" if costs.get("budget") else ""
    within = {True: " (within budget)", False: " (OVER budget)"}.get(costs.get("within_budget"), "")
    reserved = f" + ${costs['reserved']:,.0f} catering and reserve" if costs.get("reserved") else ""
    lines.append(f"  Total  ${costs['total']:,.2f}{reserved}{budget}{within}")
    if result.get("budget") and result["budget"].get("allocation"):
        allocation = ", ".join(f"{k} ${v:,.0f}" for k, v in result["budget"]["allocation"].items())
        lines.append(f"  Budget split: {allocation}")
    lines.extend(f"  Missing: {name}" for name in result.get("missing", []))
    lines.extend(f"  Warning: {text}" for text in result.get("warnings", []))
    lines.extend(f"  Tip: {text}" for text in result.get("recommendations", []))
    return "\n".join(lines)

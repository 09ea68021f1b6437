"""Plan quality: varied everyday requests through the real pipeline, each plan checked against the catalog.

Starts its own worker (and, when REDIS_URL is unset, its own broker), submits every request in
bench/data/plan_requests.jsonl through the same service as the API, waits for the plans and prints one
JSON object. Every check reads the catalog rows the plan names and applies the rules written out here
again; none of the planner's own flags is trusted:

- over_budget_with_feasible_alternative: plans over budget (or declared infeasible) although the
  cheapest workable combination in the catalog fits the budget after the catering/contingency reserve;
- hard_constraint_violations: a pick in the wrong city, too small or absurdly big, for the wrong age
  group or occasion, a cake missing a diet, not ready in time or too small for the party;
- silent_drops: something the request states (city, guest count, budget, a diet) that is neither in the
  brief nor named in the plan's warnings; and a part missing while the catalog has a workable option;
- max_theme_share: the largest share of plans with the same theme, among requests naming no theme;
- mean_budget_utilisation: (picks + reserve) / budget over feasible plans with a budget.

    DATABASE_URL=sqlite:////tmp/plan_quality.sqlite3 .venv/bin/python bench/plan_quality.py
"""

import argparse
import json
import math
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partyproject.settings.dev")
os.environ.setdefault("SELECTION_ARMS", "balanced=1,value=1")

import django

django.setup()

from django.utils import timezone  # noqa: E402

from agents import cli, services  # noqa: E402
from agents.costs import reserved_share  # noqa: E402
from partyproject.embedded import EmbeddedServices, redis_use  # noqa: E402
from planning.models import Cake, Plan, Theme, Venue  # noqa: E402

REQUESTS = Path(__file__).resolve().parent / "data" / "plan_requests.jsonl"
USERS = 16
CENT = 0.005


# --- The rules, written out again from the catalog's point of view ------------------------------------


def venue_ok(venue: Venue, brief: dict[str, Any]) -> list[str]:
    guests, age = brief["guest_count"], brief["age_group"]
    audiences = set(venue.audiences)
    problems = []
    if venue.city.slug != brief["city"]:
        problems.append("venue in another city")
    if not venue.min_guests <= guests <= venue.capacity:
        problems.append(f"venue for {venue.min_guests}-{venue.capacity}, party of {guests}")
    if venue.capacity > max(4 * guests, guests + 30):
        problems.append(f"venue for {venue.capacity} is absurdly big for {guests}")
    if ("adults" if age == "all" else age) not in audiences:
        problems.append(f"venue for {sorted(audiences)} at a party for {age}")
    return problems


def theme_ok(theme: Theme, brief: dict[str, Any], occasions: set[str]) -> list[str]:
    asked = [word.lower() for word in brief["theme_preferences"]]
    names = {keyword.lower() for keyword in theme.keywords} | {theme.slug.replace("-", " "), theme.name.lower()}
    if any(
        set(word.split()) <= set(name.split()) or set(name.split()) <= set(word.split())
        for word in asked
        for name in names
    ):
        return []
    age, groups = brief["age_group"], set(theme.age_groups)
    occasion = brief["party_type"] if brief["party_type"] in occasions else "general"
    problems = []
    if (age == "all" and groups <= {"kids"}) or (age != "all" and not groups & {age, "all"}):
        problems.append(f"theme for {sorted(groups)} at a party for {age}")
    if occasion not in theme.party_types:
        problems.append(f"theme not made for {occasion}")
    return problems


def cake_order_cost(cake: Cake, guests: int) -> tuple[int, float] | None:
    quantity = max(1, math.ceil(guests / cake.max_servings))
    if quantity > 5:
        return None
    return quantity, float(cake.price_per_serving) * max(guests, cake.min_servings * quantity)


def cake_ok(cake: Cake, brief: dict[str, Any], quantity: int) -> list[str]:
    guests = brief["guest_count"]
    problems = []
    if cake.bakery.city.slug != brief["city"]:
        problems.append("cake from another city")
    missing = set(brief["dietary_needs"]) - set(cake.dietary)
    if missing:
        problems.append(f"cake is not {sorted(missing)}")
    if brief["date"]:
        days = (timezone.datetime.fromisoformat(brief["date"]).date() - timezone.localdate()).days
        if cake.lead_time_days > days:
            problems.append(f"cake needs {cake.lead_time_days} days, {days} left")
    if quantity * cake.max_servings < guests or quantity > 5:
        problems.append(f"{quantity} cakes of {cake.max_servings} do not serve {guests}")
    asked = {word.lower() for word in brief["theme_preferences"]}
    if brief["age_group"] != "kids" and "kids" in cake.style_tags and not asked & set(cake.style_tags):
        problems.append("a children's cake at a grown-up party")
    return problems


def cheapest_workable(brief: dict[str, Any], parts: list[str], catalog: dict[str, list]) -> dict[str, float | None]:
    """The cheapest option of each part that passes the rules above (None when there is none)."""
    guests = brief["guest_count"]
    found: dict[str, float | None] = {}
    if "venue" in parts:
        costs = [v.cost_for(guests) for v in catalog["venues"] if not venue_ok(v, brief)]
        found["venue"] = min(costs, default=None)
    if "theme" in parts:
        costs = [t.cost_for(guests) for t in catalog["themes"] if not theme_ok(t, brief, catalog["occasions"])]
        found["theme"] = min(costs, default=None)
    if "cake" in parts:
        costs = []
        for cake in catalog["cakes"]:
            order = cake_order_cost(cake, guests)
            if order and not cake_ok(cake, brief, order[0]):
                costs.append(order[1])
        found["cake"] = min(costs, default=None)
    return found


# --- The run -----------------------------------------------------------------------------------------


def submit_all(requests: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Plan]]:
    users = [cli.demo_user_ensure(username=f"quality-{index}") for index in range(USERS)]
    plans = [
        (request, services.plan_create(owner=users[i % USERS], text=request["text"]))
        for i, request in enumerate(requests)
    ]
    deadline = time.monotonic() + 600
    ids = [plan.id for _, plan in plans]
    while Plan.objects.filter(pk__in=ids).exclude(status__in=Plan.TERMINAL).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("plans did not finish in time")
        time.sleep(0.1)
    fresh = Plan.objects.in_bulk(ids)
    return [(request, fresh[plan.id]) for request, plan in plans]


def evaluate(request: dict[str, Any], plan: Plan, catalog: dict[str, Any]) -> dict[str, Any]:
    """Every check for one plan."""
    brief, result = plan.brief, plan.result or {}
    warnings = " ".join(result.get("warnings", [])).lower()
    parts = [part for part in ("venue", "theme", "cake") if part in brief["agents"]]
    violations: list[str] = []
    picks: dict[str, Any] = {}
    cost = 0.0
    for part in parts:
        pick = result.get(part)
        if not pick:
            continue
        if part == "venue":
            row = Venue.objects.select_related("city").get(pk=pick["id"])
            violations += venue_ok(row, brief)
            cost += row.cost_for(brief["guest_count"])
        elif part == "theme":
            row = Theme.objects.get(slug=pick["slug"])
            violations += theme_ok(row, brief, catalog["occasions"])
            cost += row.cost_for(brief["guest_count"])
        else:
            row = Cake.objects.select_related("bakery__city").get(pk=pick["id"])
            order = cake_order_cost(row, brief["guest_count"])
            violations += cake_ok(row, brief, pick.get("quantity", 1))
            cost += order[1] if order else float("inf")
        picks[part] = row
    city_catalog = {
        "venues": [v for v in catalog["venues"] if v.city.slug == brief["city"]],
        "themes": catalog["themes"],
        "cakes": [c for c in catalog["cakes"] if c.bakery.city.slug == brief["city"]],
        "occasions": catalog["occasions"],
    }
    cheapest = cheapest_workable(brief, parts, city_catalog) if brief["city"] else {}
    drops = []
    for part in parts:
        if part not in picks and cheapest.get(part) is not None:
            drops.append(f"{part} missing although the catalog has one")
    mentions = request.get("mentions", {})
    for diet in mentions.get("diets", []):
        if diet not in brief["dietary_needs"] and diet.split("_")[0] not in warnings:
            drops.append(f"diet {diet}")
    if "city" in mentions and brief["city"] != mentions["city"] and mentions["city"].replace("-", " ") not in warnings:
        drops.append(f"city {mentions['city']}")
    if "guests" in mentions and brief["guest_count"] != mentions["guests"] and "guest" not in warnings:
        drops.append(f"guests {mentions['guests']} read as {brief['guest_count']}")
    if "budget" in mentions and brief["budget"] != mentions["budget"] and "budget" not in warnings:
        drops.append(f"budget {mentions['budget']} read as {brief['budget']}")

    budget = brief["budget"]
    reserve = budget * reserved_share(party_type=brief["party_type"], age_group=brief["age_group"]) if budget else 0
    complete = len(picks) == len(parts)
    over = bool(budget) and complete and cost + reserve > budget + CENT
    declared_infeasible = result.get("feasible") is False
    minimum = sum(cheapest.values()) if cheapest and None not in cheapest.values() else None
    alternative_fits = minimum is not None and budget is not None and minimum + reserve <= budget + CENT
    return {
        "arm": plan.selection_arm,
        "violations": violations,
        "drops": drops,
        "over_budget_with_alternative": (over or declared_infeasible) and alternative_fits,
        "feasible": bool(budget) and complete and not over,
        "utilisation": (cost + reserve) / budget if budget and complete and not over else None,
        "theme": picks["theme"].slug if "theme" in picks else None,
        "free_theme": not brief["theme_preferences"],
        "status": plan.status,
    }


def figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    themed = Counter(row["theme"] for row in rows if row["theme"] and row["free_theme"])
    utilisation = [row["utilisation"] for row in rows if row["utilisation"] is not None]
    return {
        "plans": len(rows),
        "statuses": dict(Counter(row["status"] for row in rows)),
        "over_budget_with_feasible_alternative": sum(row["over_budget_with_alternative"] for row in rows),
        "hard_constraint_violations": sum(len(row["violations"]) for row in rows),
        "silent_drops": sum(len(row["drops"]) for row in rows),
        "max_theme_share": round(max(themed.values()) / sum(themed.values()), 3) if themed else None,
        "distinct_themes": len(themed),
        "mean_budget_utilisation": round(sum(utilisation) / len(utilisation), 3) if utilisation else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=Path, default=REQUESTS, help="JSON lines: text and what it mentions")
    parser.add_argument("--details", action="store_true", help="also list every violation and drop")
    args = parser.parse_args()
    requests = [json.loads(line) for line in args.requests.read_text().splitlines() if line.strip()]

    cli.database_prepare()
    with EmbeddedServices(concurrency=2) as running:
        if cli.is_embedded():
            redis_use(running.start_broker())
        running.start_worker()
        started = time.monotonic()
        done = submit_all(requests)
        elapsed = time.monotonic() - started
    catalog = {
        "venues": list(Venue.objects.select_related("city")),
        "themes": list(Theme.objects.all()),
        "cakes": list(Cake.objects.select_related("bakery__city")),
    }
    catalog["occasions"] = {party for theme in catalog["themes"] for party in theme.party_types}
    rows = [evaluate(request, plan, catalog) for request, plan in done]
    by_arm = defaultdict(list)
    for row in rows:
        by_arm[row["arm"]].append(row)
    report = {
        **figures(rows),
        "seconds": round(elapsed, 1),
        "arms": {arm: figures(arm_rows) for arm, arm_rows in sorted(by_arm.items())},
    }
    if args.details:
        report["details"] = [
            {"text": request["text"], "violations": row["violations"], "drops": row["drops"], "theme": row["theme"]}
            for (request, _), row in zip(done, rows, strict=True)
            if row["violations"] or row["drops"] or row["over_budget_with_alternative"]
        ]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

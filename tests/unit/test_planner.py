import datetime

import pytest

from agents.analyzer import Brief
from agents.planner import AgentOutcome, FinalPlanner, money, party_label
from agents.strategies import strategy_get

BRIEF = Brief(
    party_type="birthday",
    guest_count=25,
    date=datetime.date(2027, 3, 14),
    city="austin",
    budget=1200,
    dietary_needs=("gluten_free",),
    theme_preferences=("superhero",),
    age_group="kids",
    setting="outdoor",
    classified=True,
    notes=(),
    agents=("theme", "venue", "cake", "budget"),
    graph={"theme": (), "venue": (), "cake": ("theme",), "budget": ()},
)


def option(name, cost, **extra):
    return {"name": name, "cost": cost, "reasons": [], **extra}


def succeeded(*choices, **extra):
    return AgentOutcome(status="succeeded", result={"summary": "ok", "choices": list(choices), **extra})


def outcomes(**overrides):
    base = {
        "venue": succeeded(option("Park Pavilion", 400, setting="outdoor"), option("Hall", 300, setting="indoor")),
        "theme": succeeded(option("Superhero Squad", 150)),
        "cake": succeeded(option("GF Hero Cake", 112.5, bakery="Crumbs", lead_time_days=3, dietary=["gluten_free"])),
        "budget": AgentOutcome(
            status="succeeded",
            result={
                "summary": "ok",
                "allocation": {"venue": 420, "catering": 276, "contingency": 120},
                "warnings": ["tight"],
            },
        ),
    }
    return {**base, **overrides}


def test_complete_plan_totals_costs_and_compares_with_budget():
    plan = FinalPlanner().build(brief=BRIEF, outcomes=outcomes())
    assert plan["status"] == "complete"
    assert plan["venue"]["name"] == "Park Pavilion"
    assert plan["costs"] == {
        "venue": 400.0, "theme": 150.0, "cake": 112.5, "total": 662.5, "reserved": 396, "budget": 1200,
        "remaining": 141.5, "within_budget": True,
    }  # fmt: skip
    assert plan["missing"] == [] and plan["failures"] == {}
    assert plan["alternatives"]["venue"][0]["name"] == "Hall"
    assert "tight" in plan["warnings"]


def test_recommendations_cover_diet_cake_date_rain_supervision_and_leftover_budget():
    advice = " ".join(FinalPlanner().build(brief=BRIEF, outcomes=outcomes())["recommendations"])
    assert "Crumbs" in advice and "gluten-free" in advice
    assert "Order the cake by 2027-03-11" in advice
    assert "rain" in advice
    assert "at least 5 supervising adults" in advice
    assert "$141.50 is left after the picks, catering and a reserve" in advice


def test_a_failed_agent_gives_a_partial_plan_that_names_what_is_missing():
    plan = FinalPlanner().build(
        brief=BRIEF, outcomes=outcomes(venue=AgentOutcome(status="failed", error="Gave up after 4 attempts"))
    )
    assert plan["status"] == "partial"
    assert plan["missing"] == ["venue"]
    assert plan["venue"] is None
    assert plan["failures"] == {"venue": "Gave up after 4 attempts"}
    assert "Partial plan: missing venue" in plan["summary"]
    assert plan["costs"]["total"] == 262.5


def test_an_agent_that_found_nothing_also_makes_the_plan_partial():
    empty = AgentOutcome(status="succeeded", result={"summary": "No venue holds 25 guests there.", "choices": []})
    plan = FinalPlanner().build(brief=BRIEF, outcomes=outcomes(venue=empty))
    assert plan["status"] == "partial"
    assert "No venue holds 25 guests there." in plan["warnings"]


def test_all_agents_failed_is_a_failed_plan():
    failed = AgentOutcome(status="timed_out")
    plan = FinalPlanner().build(brief=BRIEF, outcomes={name: failed for name in ("venue", "theme", "cake", "budget")})
    assert plan["status"] == "failed"
    assert plan["failures"]["venue"] == "timed_out"


def test_over_budget_takes_the_cheapest_combination_and_says_what_would_fit():
    brief = Brief.from_dict({**BRIEF.to_dict(), "budget": 600})
    plan = FinalPlanner().build(brief=brief, outcomes=outcomes())
    advice = plan["recommendations"]
    assert plan["venue"]["name"] == "Hall", "the cheaper venue keeps the overshoot smallest"
    assert plan["costs"]["within_budget"] is False and plan["feasible"] is False
    assert "The picks cost $160.50 more than the budget of $600 with $198 set aside" in advice[0]
    assert "Raise the budget to at least $840." in advice, "562.50 for the picks is 67 % of $840"
    assert "needs a budget of at least $840, $240 more than given" in " ".join(plan["warnings"])


def test_a_cheaper_combination_within_budget_beats_first_choices_over_it():
    brief = Brief.from_dict({**BRIEF.to_dict(), "budget": 900})
    plan = FinalPlanner().build(brief=brief, outcomes=outcomes())
    assert plan["costs"]["total"] + plan["costs"]["reserved"] <= 900
    assert plan["venue"]["name"] == "Hall" and plan["feasible"] is True


def test_within_budget_is_unknown_while_a_part_is_missing_and_notes_are_kept():
    brief = Brief.from_dict({**BRIEF.to_dict(), "notes": ["Kosher is not a diet the catalog knows."]})
    plan = FinalPlanner().build(brief=brief, outcomes=outcomes(cake=AgentOutcome(status="failed", error="boom")))
    assert plan["costs"]["within_budget"] is None
    assert plan["warnings"][0] == "Kosher is not a diet the catalog knows."


def test_recommenders_are_pluggable():
    planner = FinalPlanner(recommenders=[lambda draft: [f"{draft.brief.guest_count} guests"]])
    assert planner.build(brief=BRIEF, outcomes=outcomes())["recommendations"] == ["25 guests"]


@pytest.mark.parametrize(
    "party_type, label",
    [("birthday", "Birthday party"), ("general", "Party"), ("baby_shower", "Baby shower"), ("wedding", "Wedding")],
)
def test_party_labels(party_type, label):
    assert party_label(party_type) == label


def test_money_formatting():
    assert money(1200) == "$1,200"
    assert money(12.5) == "$12.50"


def test_the_budget_agents_cheapest_options_widen_the_choice():
    """An agent's list without a fitting option is widened by the cheapest workable one the budget agent found."""
    brief = Brief.from_dict({**BRIEF.to_dict(), "budget": 700})
    pricey = outcomes(venue=succeeded(option("Ballroom", 900, id=1)))
    floor = {"cheapest": {"venue": option("Community Hall", 150, id=2, facts={})}, "warnings": [], "remedies": []}
    alone = FinalPlanner().build(brief=brief, outcomes=pricey)
    assert alone["feasible"] is False
    widened = FinalPlanner().build(
        brief=brief, outcomes={**pricey, "budget": AgentOutcome(status="succeeded", result=floor)}
    )
    assert widened["venue"]["name"] == "Community Hall"
    assert widened["feasible"] is True and widened["costs"]["within_budget"] is True


def test_a_plan_names_its_strategy_and_the_value_arm_spends_less():
    brief = Brief.from_dict({**BRIEF.to_dict(), "budget": 5000})
    choices = outcomes(
        venue=succeeded(option("Hall", 300, facts={"rating": 0.5}), option("Loft", 1700, facts={"rating": 0.6})),
    )
    balanced = FinalPlanner(strategy=strategy_get("balanced")).build(brief=brief, outcomes=choices)
    value = FinalPlanner(strategy=strategy_get("value")).build(brief=brief, outcomes=choices)
    assert (balanced["selection"]["strategy"], value["selection"]["strategy"]) == ("balanced", "value")
    assert balanced["venue"]["name"] == "Loft" and value["venue"]["name"] == "Hall"

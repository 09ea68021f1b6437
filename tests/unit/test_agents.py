import datetime

import pytest
from django.utils import timezone

from agents.analyzer import Brief
from agents.base import AgentContext
from agents.budget import BudgetAgent
from agents.cake import CakeAgent
from agents.constraints import suits_age
from agents.costs import budget_shares
from agents.theme import ThemeAgent
from agents.venue import VenueAgent

pytestmark = pytest.mark.django_db


def brief(**overrides) -> Brief:
    base = {
        "party_type": "birthday", "guest_count": 25, "date": None, "city": "austin", "budget": 1200,
        "dietary_needs": ["gluten_free"], "theme_preferences": ["superhero"], "age_group": "kids",
        "setting": "any", "classified": True, "notes": [], "agents": ["theme", "venue", "cake", "budget"],
        "graph": {"theme": [], "venue": [], "cake": ["theme"], "budget": []},
    }  # fmt: skip
    return Brief.from_dict({**base, **overrides})


def context(upstream=None, **overrides) -> AgentContext:
    return AgentContext(plan_id="p", brief=brief(**overrides), upstream=upstream or {}, attempt=1)


def test_theme_agent_ranks_the_requested_theme_first(catalog):
    result = ThemeAgent().run(context())
    best = result["choices"][0]
    assert "superhero" in best["keywords"]
    assert any("superhero" in reason for reason in best["reasons"])
    assert len(result["choices"]) == 3
    assert [c["fit"] for c in result["candidates"]] == sorted((c["fit"] for c in result["candidates"]), reverse=True)
    assert result["choices"] == result["candidates"][:3]


def test_theme_agent_for_adults_prefers_jazz(catalog):
    result = ThemeAgent().run(context(theme_preferences=["jazz"], age_group="adults", dietary_needs=["vegan"]))
    assert "jazz" in result["choices"][0]["keywords"]


def test_theme_agent_never_offers_adult_only_themes_to_kids_unless_asked_by_name(catalog):
    result = ThemeAgent().run(context(theme_preferences=["superhero"]))
    assert result["candidates"]
    assert all(suits_age(c["age_groups"], "kids") for c in result["candidates"] if "superhero" not in c["keywords"])
    asked = ThemeAgent().run(context(theme_preferences=["casino"]))["candidates"]
    assert any("casino" in choice["keywords"] for choice in asked)  # their own wish, by name
    assert all("casino" in c["keywords"] or suits_age(c["age_groups"], "kids") for c in asked)


def test_venue_agent_offers_venues_in_the_city_that_hold_everyone(catalog):
    result = VenueAgent().run(context())
    assert result["choices"]
    for choice in result["choices"]:
        assert choice["city"] == "Austin" and choice["capacity"] >= 25
    assert "kids_play_area" in result["choices"][0]["amenities"]


def test_venue_agent_keeps_adults_out_of_childrens_venues(catalog):
    adults = context(age_group="adults", guest_count=40, budget=3000, theme_preferences=["jazz"], dietary_needs=[])
    choices = VenueAgent().run(adults)["choices"]
    childrens_only = [
        c
        for c in choices
        if "kids_play_area" in c["amenities"] and c["setting"] == "indoor" and "bar" not in c["amenities"]
    ]
    assert choices and not childrens_only
    assert any("bar" in choice["amenities"] or "dance_floor" in choice["amenities"] for choice in choices)


def test_venue_agent_respects_an_outdoor_request(catalog):
    result = VenueAgent().run(context(setting="outdoor", age_group="adults", theme_preferences=[]))
    assert result["choices"][0]["setting"] in ("outdoor", "mixed")


def test_venue_and_cake_agents_need_a_city(catalog):
    assert VenueAgent().run(context(city=None)) == {
        "summary": "No known city in the request, so no venue could be chosen.",
        "choices": [],
    }
    assert CakeAgent().run(context(city=None))["choices"] == []


def test_venue_agent_says_when_nothing_is_big_enough(catalog):
    result = VenueAgent().run(context(guest_count=1000))
    assert result["choices"] == [] and "1000 guests" in result["summary"]


def test_cake_agent_meets_every_dietary_need(catalog):
    result = CakeAgent().run(context())
    assert result["candidates"]
    assert all("gluten_free" in choice["dietary"] for choice in result["candidates"])
    best = result["candidates"][0]
    assert best["cost"] == pytest.approx(best["price_per_serving"] * best["servings"])


def test_cake_agent_leaves_out_cakes_that_cannot_be_baked_in_time(catalog):
    soon = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    result = CakeAgent().run(context(date=soon, dietary_needs=[]))
    assert result["choices"] and all(choice["lead_time_days"] <= 2 for choice in result["choices"])
    today = timezone.localdate().isoformat()
    assert CakeAgent().run(context(date=today, dietary_needs=[]))["choices"] == []


def test_a_small_party_still_gets_a_cake_at_the_bakery_minimum(catalog):
    result = CakeAgent().run(context(guest_count=2, age_group="adults", dietary_needs=[], theme_preferences=[]))
    best = result["choices"][0]
    assert best["servings"] >= 2
    assert best["cost"] == pytest.approx(best["price_per_serving"] * best["servings"])


def test_cake_agent_explains_when_no_cake_meets_the_needs(catalog):
    needs = ["vegan", "gluten_free", "nut_free", "dairy_free", "vegetarian"]
    result = CakeAgent().run(context(dietary_needs=needs, guest_count=900))
    assert result["choices"] == [] and "No bakery" in result["summary"]


def test_budget_agent_allocates_the_whole_budget_and_finds_it_feasible(catalog):
    result = BudgetAgent().run(context())
    assert sum(result["allocation"].values()) == pytest.approx(1200)
    assert result["feasible"] is True and result["estimated"] is False
    assert 0 < result["minimum_cost"] <= 1000


def test_budget_agent_flags_an_infeasible_budget(catalog):
    result = BudgetAgent().run(context(budget=60, guest_count=100, age_group="adults", dietary_needs=[]))
    assert result["feasible"] is False and result["minimum_cost"] > 60
    assert any("less than the cheapest workable choice" in warning for warning in result["warnings"])
    assert result["remedies"][0] == f"Raise the budget to at least ${result['needed_budget']:,.0f}."


def test_budget_agent_estimates_a_budget_when_none_is_given(catalog):
    result = BudgetAgent().run(context(budget=None))
    assert result["estimated"] is True and result["total"] > 0
    assert result["warnings"][0].startswith("No budget given; about $")


def test_budget_agent_without_a_workable_combination(catalog):
    result = BudgetAgent().run(context(guest_count=1000))
    assert result["minimum_cost"] is None and result["feasible"] is None
    assert "The catalog has no cake or venue for this brief" in " ".join(result["warnings"])


def test_budget_agent_without_a_city_does_not_guess(catalog):
    result = BudgetAgent().run(context(city=None, budget=None))
    assert (result["minimum_cost"], result["total"], result["allocation"]) == (None, None, {})
    assert result["warnings"] == ["No known city, so venue and cake prices could not be checked against the budget."]


@pytest.mark.parametrize("party_type", ["wedding", "corporate", "baby_shower", "reunion"])
def test_budget_shares_add_up_to_one(party_type):
    assert sum(budget_shares(party_type=party_type, age_group="adults").values()) == pytest.approx(1)


def test_budget_feasibility_leaves_room_for_catering_and_a_reserve(catalog):
    minimum = BudgetAgent().run(context())["minimum_cost"]
    squeezed = int(minimum / 0.8)
    result = BudgetAgent().run(context(budget=squeezed))
    assert squeezed > minimum, "the picks alone would fit"
    assert result["feasible"] is False, "but not with a third of the budget set aside"


def test_budget_estimate_agrees_with_its_verdict(catalog):
    estimate = BudgetAgent().run(context(budget=None))
    assert estimate["feasible"] is True
    exact = BudgetAgent().run(context(budget=int(estimate["total"])))
    assert exact["feasible"] is True and exact["minimum_cost"] == estimate["minimum_cost"]
    short = BudgetAgent().run(context(budget=int(estimate["needed_budget"]) - 1))
    assert short["feasible"] is False


def test_budget_agent_says_what_would_make_an_infeasible_plan_fit(catalog):
    dear = {"guest_count": 80, "dietary_needs": [], "city": "san-francisco", "age_group": "adults"}
    needed = BudgetAgent().run(context(budget=None, **dear))["needed_budget"]
    result = BudgetAgent().run(context(budget=int(needed) - 1, **dear))
    assert result["feasible"] is False
    remedies = " ".join(result["remedies"])
    assert "Raise the budget to at least" in remedies
    assert "Invite at most" in remedies
    assert "cheaper city such as" in remedies


def test_venue_agent_never_offers_a_bar_to_children_or_a_play_centre_to_adults(catalog):
    kids = VenueAgent().run(context())["candidates"]
    assert kids and all("kids" in option["audiences"] for option in kids)
    adults = VenueAgent().run(context(age_group="adults", theme_preferences=[]))["candidates"]
    assert adults and all("adults" in option["audiences"] for option in adults)


def test_cake_agent_orders_several_cakes_for_a_big_party(catalog):
    result = CakeAgent().run(context(guest_count=400, dietary_needs=[], age_group="all", party_type="wedding"))
    assert result["candidates"] and all(option["servings"] >= 400 for option in result["candidates"])
    assert any(option["quantity"] > 1 for option in result["candidates"])


def test_cake_agent_says_plainly_when_no_bakery_serves_that_many(catalog):
    result = CakeAgent().run(context(guest_count=1600, dietary_needs=["vegan"]))
    assert result["candidates"] == [] and "No bakery in Austin can serve 1600 guests" in result["summary"]
    assert "in time" not in result["summary"]


def test_theme_agent_notes_a_theme_the_catalog_lacks(catalog):
    result = ThemeAgent().run(context(theme_preferences=["steampunk"], age_group="adults"))
    assert result["candidates"]
    assert "No theme in the catalog matches 'steampunk'" in result["warnings"][0]

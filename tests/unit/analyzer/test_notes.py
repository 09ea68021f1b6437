"""Nothing dropped silently: every reading the planner may not honour is said in the brief's notes."""

import datetime

import pytest

from agents.analyzer import Brief, CatalogLimits, CityRef, InputAnalyzer

TODAY = datetime.date(2026, 3, 10)


@pytest.fixture
def analyzer(rules):
    limits = CatalogLimits(dietary_options={"vegan", "gluten_free"}, max_guests=300)
    return InputAnalyzer(rules=rules, cities=[CityRef("boston", "Boston")], catalog=limits, today=TODAY)


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("party in Phoenix for 30", "We do not plan parties in Phoenix yet; city left open."),
        ("Boston, a Saturday in the spring", "Only a vague date was given (“the spring”); date left open."),
        (
            "Boston, budget $2-3k",
            "The budget was given as a range ($2,000 to $3,000); took the upper end, $3,000, as the ceiling.",
        ),
        ("Boston, 30 guests, $50 per head", "Read $50 per guest for 30 guests as a budget of $1,500."),
        ("Boston, budget €2000", "The budget was given in €; it was read as dollars."),
        (
            "wedding in Boston for 400 guests",
            "400 guests is more than the largest venue in the catalog holds (300); "
            "the plan may find no venue big enough.",
        ),
        ("halloween party in Boston", "Read Halloween as the date: 2026-10-31."),
        (
            "Boston, kosher and vegan",
            "The catalog has no kosher options in Boston yet; the plan cannot guarantee it, "
            "so check with the caterer and bakery.",
        ),
    ],
)
def test_each_unhonoured_reading_has_a_note(analyzer, text, note):
    assert note in analyzer.analyze(text=text).notes


def test_per_head_budget_is_kept_on_the_brief(analyzer):
    brief = analyzer.analyze(text="Boston, $75 per person, 35 ppl")

    assert (brief.budget, brief.budget_per_head, brief.guest_count_given) == (2625, 75, True)


def test_a_brief_stored_before_the_new_fields_still_loads(analyzer):
    data = analyzer.analyze(text="birthday in Boston").to_dict()
    del data["guest_count_given"], data["budget_per_head"]

    brief = Brief.from_dict(data)

    assert brief.guest_count_given is True and brief.budget_per_head is None

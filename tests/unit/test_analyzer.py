"""InputAnalyzer: free text and structured fields in, a validated Brief out."""

import dataclasses
import datetime
import json
import logging
from decimal import Decimal

import pytest
import yaml

from agents.analyzer import (
    DEFAULT_RULES_PATH,
    FALLBACK_NOTE,
    Brief,
    BriefOutOfRange,
    CityRef,
    InputAnalyzer,
    load_rules,
)
from agents.analyzer import facade as facade_module

TODAY = datetime.date(2027, 1, 6)  # a Wednesday
CITIES = (
    CityRef(slug="austin", name="Austin", aliases=("atx",)),
    CityRef(slug="new-york", name="New York", aliases=("nyc", "manhattan")),
    CityRef(slug="chicago", name="Chicago"),
)
DELETE = object()


@pytest.fixture(autouse=True)
def _clean_shared_state():
    """The analyzer is pure: these tests need none of the shared Redis or breaker state."""
    yield


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture
def analyzer(rules):
    return InputAnalyzer(rules=rules, cities=CITIES, today=TODAY)


@pytest.fixture
def analyze(analyzer):
    def run(text="", **fields):
        return analyzer.analyze(text=text, fields=fields or None)

    return run


def rules_file(tmp_path, *changes, name="rules.yaml"):
    """The bundled rules with `changes` applied, written to a file."""
    document = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    for change in changes:
        change(document)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def set_to(path, value):
    """A change that sets (or, with DELETE, removes) the entry at a dotted path."""

    def change(document):
        *parents, last = path.split(".")
        node = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key = int(last) if isinstance(node, list) else last
        if value is DELETE:
            del node[key]
        else:
            node[key] = value

    return change


# --------------------------------------------------------------------------------------------------
# The two reference requests


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan",
            ("birthday", 40, "austin", 3000, ("vegan",), ("jazz",), "adults"),
        ),
        (
            "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free",
            ("birthday", 25, "austin", 1200, ("gluten_free",), ("superhero",), "kids"),
        ),
    ],
)
def test_reference_requests_give_the_exact_brief(analyze, text, expected):
    brief = analyze(text)

    assert (
        brief.party_type,
        brief.guest_count,
        brief.city,
        brief.budget,
        brief.dietary_needs,
        brief.theme_preferences,
        brief.age_group,
    ) == expected
    assert brief.classified is True


def test_a_full_wedding_request(analyze):
    brief = analyze("Wedding reception for 150 guests in New York on June 12, 2027, budget $40k, rustic theme, outdoor")

    assert brief.party_type == "wedding"
    assert brief.guest_count == 150
    assert brief.date == datetime.date(2027, 6, 12)
    assert brief.city == "new-york"
    assert brief.budget == 40000
    assert brief.theme_preferences == ("rustic",)
    assert brief.setting == "outdoor"


# --------------------------------------------------------------------------------------------------
# Party type


@pytest.mark.parametrize(
    ("text", "party_type"),
    [
        ("her 30th, 20 friends", "birthday"),
        ("bday bash for Sam", "birthday"),
        ("b-day party at the park", "birthday"),
        ("my dad turns 40 next month", "birthday"),
        ("sweet sixteen sleepover", "birthday"),
        ("a Gatsby-themed 40th for my wife", "birthday"),
        ("our wedding, about 120 guests", "wedding"),
        ("we're getting married in June", "wedding"),
        ("wedding anniversary dinner", "anniversary"),
        ("our 25th anniversary", "anniversary"),
        ("team offsite for the engineers", "corporate"),
        ("company picnic", "corporate"),
        ("office party before the break", "corporate"),
        ("company holiday party", "corporate"),
        ("Christmas dinner with the neighbours", "holiday"),
        ("new year's eve bash", "holiday"),
        ("Halloween costume night", "holiday"),
        ("Thanksgiving for the family", "holiday"),
        ("the 4th of July block party", "holiday"),
        ("baby shower for my sister", "baby_shower"),
        ("gender reveal in the garden", "gender_reveal"),
        ("bridal shower brunch", "bridal_shower"),
        ("bachelorette weekend", "bachelor_party"),
        ("Bar mitzvah for our son", "mitzvah"),
        ("her quinceañera", "quinceanera"),
        ("housewarming at the new flat", "housewarming"),
        ("charity gala", "fundraiser"),
        ("graduation party for Maya", "graduation"),
        ("retirement party for Bob's 65th", "retirement"),
        ("engagement party", "engagement"),
        ("20th high school reunion", "reunion"),
    ],
)
def test_party_type_is_read_from_many_phrasings(analyze, text, party_type):
    brief = analyze(text)

    assert brief.party_type == party_type
    assert brief.classified is True


@pytest.mark.parametrize("text", ["get together with friends", "something fun", "the 14th", ""])
def test_an_unclassifiable_request_is_a_general_party_with_a_note(analyze, text):
    brief = analyze(text)

    assert brief.party_type == "general"
    assert brief.classified is False
    assert "Could not tell what kind of party this is; treated it as a general party." in brief.notes


# --------------------------------------------------------------------------------------------------
# Guest count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("40 guests", 40),
        ("for 25 kids", 25),
        ("40 people", 40),
        ("about 60 attendees", 60),
        ("a party of 12", 12),
        ("two dozen guests", 24),
        ("a dozen kids", 12),
        ("twelve friends", 12),
        ("twenty-five guests", 25),
        ("a hundred guests", 100),
        ("30-40 guests", 40),
        ("between 30 and 40 guests", 40),
        ("20 adults and 15 kids", 35),
        ("guest count: 75", 75),
        ("headcount of 45", 45),
        ("guests: 33", 33),
        ("dinner for 8", 8),
        ("60+ guests", 60),
        ("50ish people", 50),
        ("1,000 guests", 1000),
        ("30th birthday, 12 guests", 12),
        ("40 guests, one vegan", 40),
        ("the budget for 40 guests is $2000", 40),
    ],
)
def test_guest_count_is_read_from_many_phrasings(analyze, text, count):
    assert analyze(text).guest_count == count


@pytest.mark.parametrize(
    "text",
    [
        "30th birthday",
        "$3,000 to spend",
        "she turns 40",
        "party on March 14",
        "on 3/14/2027",
        "one guest is gluten-free",
        "two guests are vegan",
        "for 2 hours",
        "for 5 year olds",
        "for $40 a head",
        "in 3 weeks",
    ],
)
def test_numbers_that_are_not_head_counts_leave_the_default(analyze, text):
    brief = analyze(f"birthday, {text}")

    assert brief.guest_count == 20
    assert "No guest count given; assumed 20." in brief.notes


@pytest.mark.parametrize(("text", "count"), [("a wedding", 100), ("company offsite", 50), ("a reunion", 50)])
def test_default_guest_count_depends_on_the_party_type(analyze, text, count):
    brief = analyze(text)

    assert brief.guest_count == count
    assert f"No guest count given; assumed {count}." in brief.notes


@pytest.mark.parametrize(
    ("text", "fields", "count"),
    [
        ("5000 guests", {}, "5,000"),
        ("0 guests", {}, "0"),
        ("", {"guest_count": 2500}, "2,500"),
        ("", {"guest_count": -3}, "-3"),
    ],
)
def test_a_guest_count_beyond_the_limits_is_refused_not_clamped(analyze, text, fields, count):
    with pytest.raises(BriefOutOfRange) as refused:
        analyze(text, **fields)

    assert refused.value.field == "guest_count"
    assert refused.value.message == f"A party of {count} guests is beyond what we can plan: 1 to 1,000 guests."
    assert isinstance(refused.value, ValueError)


# --------------------------------------------------------------------------------------------------
# Budget


@pytest.mark.parametrize(
    ("text", "budget"),
    [
        ("$3,000", 3000),
        ("$3k", 3000),
        ("budget 1200", 1200),
        ("budget of $1,200", 1200),
        ("budget: 1500", 1500),
        ("budget is around $2k", 2000),
        ("3000 dollars", 3000),
        ("USD 2500", 2500),
        ("2.5k budget", 2500),
        ("under $800", 800),
        ("$2,499.50", 2500),
        ("$2,000-$3,000", 3000),
        ("two thousand dollars", 2000),
        ("we can spend up to 900", 900),
        ("$0.5 million", 500_000),
    ],
)
def test_budget_is_read_in_whole_dollars_from_many_phrasings(analyze, text, budget):
    assert analyze(f"birthday, 20 guests, {text}").budget == budget


def test_no_budget_is_none_with_a_note(analyze):
    brief = analyze("birthday for 20 guests")

    assert brief.budget is None
    assert "No budget given; budget left open." in brief.notes


@pytest.mark.parametrize(
    ("text", "fields", "amount"),
    [
        ("$10 budget", {}, "$10"),
        ("$5,000,000", {}, "$5,000,000"),
        ("$1.2 million", {}, "$1,200,000"),
        ("$3,000", {"budget": 20}, "$20"),
    ],
)
def test_a_budget_beyond_the_limits_is_refused_not_ignored(analyze, text, fields, amount):
    with pytest.raises(BriefOutOfRange) as refused:
        analyze(f"birthday, {text}", **fields)

    assert refused.value.field == "budget"
    assert refused.value.message == f"A budget of {amount} is outside what we can plan with: $50 to $1,000,000."


def test_a_small_amount_beside_a_budget_within_the_limits_is_not_refused(analyze):
    assert analyze("birthday, $5 balloons, budget $800").budget == 800


# --------------------------------------------------------------------------------------------------
# Date (today is Wednesday 2027-01-06)


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2027-03-14", datetime.date(2027, 3, 14)),
        ("March 14", datetime.date(2027, 3, 14)),
        ("Mar 14th, 2027", datetime.date(2027, 3, 14)),
        ("14 March", datetime.date(2027, 3, 14)),
        ("the fourteenth of March", datetime.date(2027, 3, 14)),
        ("3/14/2027", datetime.date(2027, 3, 14)),
        ("3/14/27", datetime.date(2027, 3, 14)),
        ("3/14", datetime.date(2027, 3, 14)),
        ("3-14-2027", datetime.date(2027, 3, 14)),
        ("Sept. 5", datetime.date(2027, 9, 5)),
        ("January 2", datetime.date(2028, 1, 2)),
        ("Feb 29", datetime.date(2028, 2, 29)),
        ("today", datetime.date(2027, 1, 6)),
        ("tonight", datetime.date(2027, 1, 6)),
        ("tomorrow", datetime.date(2027, 1, 7)),
        ("the day after tomorrow", datetime.date(2027, 1, 8)),
        ("this Friday", datetime.date(2027, 1, 8)),
        ("on Saturday", datetime.date(2027, 1, 9)),
        ("Saturday", datetime.date(2027, 1, 9)),
        ("this weekend", datetime.date(2027, 1, 9)),
        ("Wednesday", datetime.date(2027, 1, 6)),
        ("next Saturday", datetime.date(2027, 1, 16)),
        ("next Wednesday", datetime.date(2027, 1, 13)),
        ("next Monday", datetime.date(2027, 1, 11)),
        ("in 3 weeks", datetime.date(2027, 1, 27)),
        ("in two weeks", datetime.date(2027, 1, 20)),
        ("in 10 days", datetime.date(2027, 1, 16)),
        ("in a month", datetime.date(2027, 2, 6)),
        ("in a fortnight", datetime.date(2027, 1, 20)),
        ("3 weeks from now", datetime.date(2027, 1, 27)),
        ("in 2 years", datetime.date(2029, 1, 6)),
    ],
)
def test_date_is_read_in_every_supported_form(analyze, text, date):
    brief = analyze(f"birthday party {text} for 30 guests")

    assert brief.date == date
    assert brief.guest_count == 30


def test_a_month_end_shift_lands_on_the_last_day_of_the_month(rules):
    brief = InputAnalyzer(rules=rules, today=datetime.date(2027, 1, 31)).analyze(text="party in a month")

    assert brief.date == datetime.date(2027, 2, 28)


def test_the_earliest_date_mentioned_wins(analyze):
    assert analyze("birthday on March 20 or maybe March 14").date == datetime.date(2027, 3, 20)
    assert analyze("birthday tomorrow, not 2027-05-01").date == datetime.date(2027, 1, 7)


@pytest.mark.parametrize(
    ("text", "fields", "past"),
    [
        ("birthday on 2026-12-25", {}, "2026-12-25"),
        ("birthday on 12/25/2026", {}, "2026-12-25"),
        ("birthday on March 3, 2020", {}, "2020-03-03"),
        ("birthday", {"date": "2026-06-01"}, "2026-06-01"),
    ],
)
def test_a_date_in_the_past_is_dropped_with_a_note(analyze, text, fields, past):
    brief = analyze(text, **fields)

    assert brief.date is None
    assert f"Date {past} is in the past; ignored." in brief.notes


@pytest.mark.parametrize("text", ["birthday", "birthday on 2027-02-30", "birthday on 13/45/2027", "50/50 raffle"])
def test_no_usable_date_is_none_with_a_note(analyze, text):
    brief = analyze(text)

    assert brief.date is None
    assert "No date given; date left open." in brief.notes


def test_dates_beyond_the_calendar_are_dropped_not_fatal(rules):
    brief = InputAnalyzer(rules=rules, today=datetime.date(9999, 12, 31)).analyze(text="birthday tomorrow")

    assert brief.date is None
    assert FALLBACK_NOTE not in brief.notes


def test_date_words_missing_from_the_vocabularies_are_no_date(tmp_path):
    def add_patterns(document):
        document["dates"]["patterns"] = [
            r"\b(?P<weekday>funday)\b",
            r"\bin (?P<unit>eons)\b",
            r"\b(?P<relative_day>someday)\b",
            r"\b(?P<month>smarch) (?P<day>\d+)\b",
        ]

    analyzer = InputAnalyzer(rules=load_rules(rules_file(tmp_path, add_patterns)), today=TODAY)

    for text in ["on funday", "in eons", "someday", "smarch 3"]:
        assert analyzer.analyze(text=f"birthday {text}").date is None


def test_today_defaults_to_the_real_date(rules):
    brief = InputAnalyzer(rules=rules).analyze(text="birthday tomorrow")

    assert brief.date == datetime.date.today() + datetime.timedelta(days=1)


# --------------------------------------------------------------------------------------------------
# City


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("party in Austin", "austin"),
        ("Austin, TX", "austin"),
        ("somewhere in ATX", "austin"),
        ("NYC rooftop", "new-york"),
        ("in new york city", "new-york"),
        ("New-York loft", "new-york"),
        ("a Manhattan bar", "new-york"),
        ("chicago or austin", "chicago"),
    ],
)
def test_city_is_matched_by_name_or_alias_as_whole_words(analyze, text, city):
    assert analyze(text).city == city


@pytest.mark.parametrize("text", ["Austinville barn", "no city at all"])
def test_an_unknown_city_is_none_with_a_note(analyze, text):
    brief = analyze(text)

    assert brief.city is None
    assert "No supported city found; city left open." in brief.notes


def test_empty_city_aliases_are_ignored(rules):
    analyzer = InputAnalyzer(rules=rules, cities=[CityRef("austin", "Austin", ("", "  "))], today=TODAY)

    assert analyzer.analyze(text="party in Austin").city == "austin"
    assert analyzer.analyze(text="party in ", fields={"city": ""}).city is None


def test_without_known_cities_no_city_is_found(rules):
    brief = InputAnalyzer(rules=rules, today=TODAY).analyze(text="party in Austin")

    assert brief.city is None


@pytest.mark.parametrize("value", ["austin", "Austin", "ATX", " austin "])
def test_structured_city_may_be_a_slug_name_or_alias(analyze, value):
    assert analyze("party in New York", city=value).city == "austin"


# --------------------------------------------------------------------------------------------------
# Dietary needs


@pytest.mark.parametrize(
    ("text", "needs"),
    [
        ("one vegan", ("vegan",)),
        ("two vegetarians", ("vegetarian",)),
        ("one guest is gluten-free", ("gluten_free",)),
        ("a celiac uncle", ("gluten_free",)),
        ("coeliac guest", ("gluten_free",)),
        ("gluten free please", ("gluten_free",)),
        ("nut allergy", ("nut_free",)),
        ("a peanut allergy", ("nut_free",)),
        ("tree nut issues", ("nut_free",)),
        ("nut-free cake", ("nut_free",)),
        ("lactose intolerant", ("dairy_free",)),
        ("no dairy", ("dairy_free",)),
        ("dairy-free", ("dairy_free",)),
        ("vegan, celiac and a nut allergy", ("gluten_free", "nut_free", "vegan")),
        ("nothing special", ()),
    ],
)
def test_dietary_needs_are_recognised_and_sorted(analyze, text, needs):
    assert analyze(text).dietary_needs == needs


# --------------------------------------------------------------------------------------------------
# Theme preferences


@pytest.mark.parametrize(
    ("text", "themes"),
    [
        ("jazz theme", ("jazz",)),
        ("superhero-themed party", ("superhero",)),
        ("a themed party around pirates", ("pirate",)),
        ("themed around dinosaurs", ("dinosaur",)),
        ("theme: under the sea", ("under the sea",)),
        ("the theme is hot pink", ("hot pink",)),
        ("gatsby style party", ("gatsby",)),
        ("boho-style wedding", ("boho",)),
        ("harry potter birthday", ("harry potter",)),
        ("a winter wonderland gala", ("winter wonderland",)),
        ("a fun superhero and princess theme", ("superhero", "princess")),
        ("Jurassic Park theme", ("jurassic park",)),
        ("a Gatsby-themed 40th for my wife", ("gatsby",)),
        ("2000s theme", ("2000s",)),
        ("themed 30th", ()),
        ("80's disco night", ("80s", "disco")),
        ("roaring twenties glamour", ("1920s",)),
        ("jazz theme with a jazz band", ("jazz",)),
        ("black-tie and elegant", ("black tie", "elegant")),
        ("mermaid or unicorn, not sure", ("mermaid", "unicorn")),
        ("a themed party", ()),
        ("no preferences", ()),
    ],
)
def test_theme_preferences_keep_order_and_are_deduplicated(analyze, text, themes):
    assert analyze(text).theme_preferences == themes


def test_a_theme_phrase_is_at_most_three_words(analyze):
    assert analyze("big shiny silver space cowboy rodeo theme").theme_preferences == ("space", "cowboy")
    assert analyze("shiny silver glitter sparkle theme").theme_preferences == ("silver glitter sparkle",)


# --------------------------------------------------------------------------------------------------
# Age group and setting


@pytest.mark.parametrize(
    ("text", "age_group"),
    [
        ("5th birthday", "kids"),
        ("fifth birthday", "kids"),
        ("birthday for 25 kids", "kids"),
        ("children's party", "kids"),
        ("toddler playdate", "kids"),
        ("she turns 7", "kids"),
        ("7 year olds", "kids"),
        ("sweet 16", "teens"),
        ("teen party", "teens"),
        ("turns 15", "teens"),
        ("30th birthday", "adults"),
        ("her 40th", "adults"),
        ("a Gatsby-themed 40th for my wife", "adults"),
        ("adults only", "adults"),
        ("5th birthday but adults only", "adults"),
        ("all ages welcome", "all"),
        ("20 adults and 15 kids", "all"),
    ],
)
def test_age_group_is_read_from_ages_and_words(analyze, text, age_group):
    assert analyze(text).age_group == age_group


@pytest.mark.parametrize(("text", "age_group"), [("company offsite", "adults"), ("a wedding", "all")])
def test_age_group_defaults_per_party_type_with_a_note(analyze, text, age_group):
    brief = analyze(text)

    assert brief.age_group == age_group
    assert f"No age group mentioned; assumed {age_group}." in brief.notes


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ("outdoor party", "outdoor"),
        ("outside if it's sunny", "outdoor"),
        ("garden party", "outdoor"),
        ("in the backyard", "outdoor"),
        ("at the park", "outdoor"),
        ("beach day", "outdoor"),
        ("indoor venue", "indoor"),
        ("inside please", "indoor"),
        ("indoor ceremony, outdoor reception", "any"),
    ],
)
def test_setting_is_read_from_words(analyze, text, setting):
    assert analyze(text).setting == setting


def test_no_setting_is_any_with_a_note(analyze):
    brief = analyze("birthday")

    assert brief.setting == "any"
    assert "No indoor or outdoor preference given; assumed any." in brief.notes


# --------------------------------------------------------------------------------------------------
# Agents and their graph


def test_every_agent_runs_by_default_in_dependency_order(analyze):
    brief = analyze("birthday for 20 guests")

    assert brief.agents == ("theme", "venue", "cake", "budget")
    assert brief.graph == {"theme": (), "venue": (), "cake": ("theme",), "budget": ()}


@pytest.mark.parametrize(
    "text",
    ["party at home", "at our house", "in my backyard", "at my place", "at our parents' house"],
)
def test_a_party_at_home_needs_no_venue(analyze, text):
    brief = analyze(f"birthday {text}")

    assert brief.agents == ("theme", "cake", "budget")
    assert brief.graph == {"theme": (), "cake": ("theme",), "budget": ()}
    assert "The party is at home, so no venue is needed; venue search skipped." in brief.notes


@pytest.mark.parametrize("text", ["no cake", "we don't need a cake", "dont need a cake", "skip the cake"])
def test_a_party_without_cake_skips_the_cake_agent(analyze, text):
    brief = analyze(f"birthday, {text}")

    assert brief.agents == ("theme", "venue", "budget")
    assert "cake" not in brief.graph
    assert "No cake is needed; cake search skipped." in brief.notes


def test_budget_always_runs_even_when_everything_else_is_skipped(analyze):
    brief = analyze("birthday at home, no cake")

    assert brief.agents == ("theme", "budget")
    assert brief.graph == {"theme": (), "budget": ()}


def test_agents_run_in_a_stable_topological_order_from_the_rules(tmp_path):
    agents = {
        "cake": {"depends_on": ["theme"]},
        "budget": {"depends_on": [], "always_run": True},
        "theme": {"depends_on": []},
        "venue": {"depends_on": ["budget"]},
    }
    rules = load_rules(rules_file(tmp_path, set_to("agents", agents)))

    brief = InputAnalyzer(rules=rules, today=TODAY).analyze(text="birthday")

    assert brief.agents == ("budget", "theme", "cake", "venue")
    assert brief.graph == {"budget": (), "theme": (), "cake": ("theme",), "venue": ("budget",)}


def test_a_skipped_agent_is_dropped_from_its_dependents(tmp_path):
    skip_theme = {"agent": "theme", "note": "No theme wanted.", "keywords": ["no theme"]}

    def add_rule(document):
        document["skip_rules"].append(skip_theme)

    rules = load_rules(rules_file(tmp_path, add_rule))
    brief = InputAnalyzer(rules=rules, today=TODAY).analyze(text="birthday, no theme")

    assert brief.agents == ("venue", "cake", "budget")
    assert brief.graph["cake"] == ()
    assert "No theme wanted." in brief.notes


# --------------------------------------------------------------------------------------------------
# Structured fields


def test_structured_fields_override_the_text(analyze):
    brief = analyze(
        "wedding for 100 guests in Austin on March 14, $5,000, jazz theme, vegan, indoor, adults only",
        party_type="Birthday",
        guest_count="30",
        date="2027-05-01",
        city="nyc",
        budget="$2,500",
        dietary_needs=["Gluten-free", "nut_free"],
        theme_preferences=["Harry Potter", "<b>Pirates</b>"],
        age_group="Kids",
        setting="outdoor",
    )

    assert brief.party_type == "birthday"
    assert brief.guest_count == 30
    assert brief.date == datetime.date(2027, 5, 1)
    assert brief.city == "new-york"
    assert brief.budget == 2500
    assert brief.dietary_needs == ("gluten_free", "nut_free")
    assert brief.theme_preferences == ("harry potter", "pirate")
    assert brief.age_group == "kids"
    assert brief.setting == "outdoor"
    assert brief.classified is True


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("guest_count", 40.0, 40),
        ("guest_count", Decimal("40"), 40),
        ("budget", 2500.4, 2500),
        ("budget", Decimal("1999.50"), 2000),
        ("budget", "3000", 3000),
        ("date", datetime.date(2027, 2, 1), datetime.date(2027, 2, 1)),
        ("date", datetime.datetime(2027, 2, 1, 18, 30), datetime.date(2027, 2, 1)),
        ("date", "2027-02-01T18:30:00", datetime.date(2027, 2, 1)),
        ("dietary_needs", [], ()),
        ("dietary_needs", ("vegan", "Vegan"), ("vegan",)),
        ("theme_preferences", [], ()),
        ("party_type", "baby shower", "baby_shower"),
        ("party_type", "general", "general"),
    ],
)
def test_structured_values_of_every_accepted_type(analyze, name, value, expected):
    brief = analyze("wedding in Austin, one vegan, jazz theme", **{name: value})

    assert getattr(brief, name) == expected


@pytest.mark.parametrize(
    ("name", "value", "from_text"),
    [
        ("party_type", "rave", "wedding"),
        ("party_type", 7, "wedding"),
        ("guest_count", "lots", 120),
        ("guest_count", 12.5, 120),
        ("guest_count", True, 120),
        ("guest_count", float("nan"), 120),
        ("budget", "cheap", 4000),
        ("budget", Decimal("Infinity"), 4000),
        ("budget", 10**20, 4000),
        ("date", "someday", datetime.date(2027, 3, 14)),
        ("date", 20270314, datetime.date(2027, 3, 14)),
        ("city", "Atlantis", "austin"),
        ("city", 42, "austin"),
        ("dietary_needs", "vegan", ("vegan",)),
        ("theme_preferences", "jazz", ("jazz",)),
        ("age_group", "elderly", "all"),
        ("setting", "underwater", "any"),
    ],
)
def test_unusable_structured_values_are_noted_and_the_text_is_used(analyze, name, value, from_text):
    brief = analyze("wedding for 120 guests in Austin on March 14, $4,000, one vegan, jazz theme", **{name: value})

    assert getattr(brief, name) == from_text
    assert any(note.startswith(f"Ignored the {name.replace('_', ' ')} field:") for note in brief.notes)


def test_unknown_entries_in_structured_lists_are_noted(analyze):
    brief = analyze(dietary_needs=["vegan", "keto", 3], theme_preferences=["space", 42, "   "])

    assert brief.dietary_needs == ("vegan",)
    assert brief.theme_preferences == ("space",)
    assert "Ignored unknown dietary needs: 'keto', 3." in brief.notes
    assert "Ignored unusable theme preferences: 42, '   '." in brief.notes


def test_unknown_fields_are_noted_and_none_values_are_absent(analyze):
    brief = analyze("birthday for 30 guests", colour="blue", guest_count=None)

    assert brief.guest_count == 30
    assert "Ignored unknown fields: 'colour'." in brief.notes


def test_fields_alone_make_a_brief(analyze):
    brief = analyze(party_type="corporate", guest_count=60, city="chicago", budget=9000)

    assert (brief.party_type, brief.guest_count, brief.city, brief.budget) == ("corporate", 60, "chicago", 9000)
    assert brief.age_group == "adults"


# --------------------------------------------------------------------------------------------------
# Hostile and odd input


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  ",
        "🎉🎂🥳🎈",
        "'; DROP TABLE plans; --",
        '" OR 1=1 --',
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "\x00\x01\x02\x1b[31m",
        "\u202eesrever\u202c \ufeff\u200b",
        "\ud800 lone surrogate",
        "{{theme}} %s %(name)s ${jndi:ldap://x}",
        "9" * 5000,
        "<" * 100_000,
        "theme " * 1000,
        "ÄÖÜ ß 東京 مرحبا",
    ],
)
def test_garbage_never_raises_and_never_falls_back(analyze, text):
    brief = analyze(text)

    assert isinstance(brief, Brief)
    assert FALLBACK_NOTE not in brief.notes
    assert 1 <= brief.guest_count <= 1000
    assert not any("<" in theme or ">" in theme for theme in brief.theme_preferences)


def test_html_is_stripped_before_reading(analyze):
    brief = analyze("<p><b>Wedding</b> for <i>80</i> guests</p><script>alert(1)</script>")

    assert brief.party_type == "wedding"
    assert brief.guest_count == 80


def test_a_huge_request_is_truncated_with_a_note(analyze):
    brief = analyze("birthday for 40 guests, jazz theme " + "la " * 500_000 + "wedding for 900 guests")

    assert brief.party_type == "birthday"
    assert brief.guest_count == 40
    assert "The request was longer than 2000 characters; only the first 2000 were read." in brief.notes


@pytest.mark.parametrize(("text", "fields"), [(None, None), (123, None), (b"bytes", None), ("", ["a"])])
def test_wrong_argument_types_are_type_errors(analyzer, text, fields):
    with pytest.raises(TypeError):
        analyzer.analyze(text=text, fields=fields)


# --------------------------------------------------------------------------------------------------
# Safe fallback


def test_an_internal_failure_returns_safe_defaults_and_logs(analyzer, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(facade_module, "themes_in", broken)

    with caplog.at_level(logging.ERROR, logger="agents.analyzer"):
        brief = analyzer.analyze(text="30th birthday, 40 guests, Austin, jazz theme, $3,000")

    assert brief.party_type == "general"
    assert brief.guest_count == 20
    assert brief.classified is False
    assert brief.notes == (FALLBACK_NOTE,)
    assert brief.agents == ("theme", "venue", "cake", "budget")
    assert brief.graph == {"theme": (), "venue": (), "cake": ("theme",), "budget": ()}
    assert any(record.exc_info for record in caplog.records)


def test_broken_rules_give_the_safe_fallback(rules):
    broken = dataclasses.replace(rules, budget=dataclasses.replace(rules.budget, patterns=("not a compiled pattern",)))

    first = InputAnalyzer(rules=broken, today=TODAY).analyze(text="$3,000")
    first.graph["theme"] = ("tampered",)
    second = InputAnalyzer(rules=broken, today=TODAY).analyze(text="$3,000")

    assert first.notes == second.notes == (FALLBACK_NOTE,)
    assert second.graph["theme"] == ()


# --------------------------------------------------------------------------------------------------
# Classifier hook


def analyzer_with(rules, classifier):
    return InputAnalyzer(rules=rules, cities=CITIES, today=TODAY, classifier=classifier)


def test_a_confident_classifier_overrides_the_keyword_rules(rules):
    seen = []

    def classifier(text):
        seen.append(text)
        return ("wedding", 0.9)

    brief = analyzer_with(rules, classifier).analyze(text="<b>Birthday</b> for 40 guests")

    assert brief.party_type == "wedding"
    assert brief.classified is True
    assert seen == ["Birthday for 40 guests"]


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        (("wedding", 0.2), None),
        (None, None),
        (("general", 0.99), None),
        (("rave", 0.99), "Ignored the party type classifier's answer ('rave', 0.99)."),
        (("wedding",), "Ignored the party type classifier's answer ('wedding',)."),
        (("wedding", "high"), "Ignored the party type classifier's answer ('wedding', 'high')."),
        (("wedding", float("nan")), "Ignored the party type classifier's answer ('wedding', nan)."),
        ("wedding", "Ignored the party type classifier's answer 'wedding'."),
    ],
)
def test_a_doubtful_or_odd_classifier_answer_leaves_the_keyword_rules(rules, answer, note):
    brief = analyzer_with(rules, lambda _text: answer).analyze(text="birthday for 40 guests")

    assert brief.party_type == "birthday"
    if note:
        assert note in brief.notes
    else:
        assert not any("classifier" in existing for existing in brief.notes)


def test_a_failing_classifier_is_logged_noted_and_ignored(rules, caplog):
    def classifier(_text):
        raise RuntimeError("model unavailable")

    with caplog.at_level(logging.ERROR, logger="agents.analyzer"):
        brief = analyzer_with(rules, classifier).analyze(text="birthday for 40 guests")

    assert brief.party_type == "birthday"
    assert "The party type classifier failed; the keyword rules were used instead." in brief.notes
    assert FALLBACK_NOTE not in brief.notes
    assert any("model unavailable" in record.exc_text for record in caplog.records if record.exc_text)


def test_the_classifier_yields_to_structured_fields_and_empty_text(rules):
    calls = []

    def classifier(text):
        calls.append(text)
        return ("wedding", 1.0)

    analyzer = analyzer_with(rules, classifier)

    assert analyzer.analyze(text="a party", fields={"party_type": "graduation"}).party_type == "graduation"
    assert analyzer.analyze(text="").party_type == "general"
    assert calls == []


# --------------------------------------------------------------------------------------------------
# Brief serialisation


def test_to_dict_is_json_ready_and_from_dict_is_its_exact_inverse(analyze):
    brief = analyze("birthday on March 14 for 25 kids in Austin at home, superhero theme, vegan, budget $1200")

    data = brief.to_dict()

    assert json.loads(json.dumps(data)) == data
    assert data["date"] == "2027-03-14"
    assert data["graph"] == {"theme": [], "cake": ["theme"], "budget": []}
    assert Brief.from_dict(data) == brief
    assert Brief.from_dict(json.loads(json.dumps(data))) == brief


def test_round_trip_keeps_an_open_date(analyze):
    brief = analyze("birthday")

    assert brief.to_dict()["date"] is None
    assert Brief.from_dict(brief.to_dict()) == brief


def test_from_dict_names_missing_keys(analyze):
    data = analyze("birthday").to_dict()
    del data["graph"], data["notes"]

    with pytest.raises(ValueError, match="graph"):
        Brief.from_dict(data)


# --------------------------------------------------------------------------------------------------
# Rules file


def test_the_bundled_rules_are_loaded_once_and_used_by_default():
    assert load_rules() is load_rules(DEFAULT_RULES_PATH)
    assert InputAnalyzer().rules is load_rules()


def test_bundled_rules_expose_what_the_brief_may_contain(rules):
    document = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))

    assert rules.party_type_names == tuple(document["party_types"])
    assert {"mitzvah", "quinceanera", "bachelor_party", "gender_reveal", "housewarming"} <= set(rules.party_type_names)
    assert rules.dietary_options == tuple(document["dietary"])
    assert {"kosher", "halal", "sugar_free", "egg_free", "shellfish_free"} <= set(rules.dietary_options)
    assert set(rules.setting_values) == {"indoor", "outdoor", "any"}
    assert rules.ages.values == ("kids", "teens", "adults", "all")


def test_a_changed_rules_file_is_read_again(tmp_path):
    path = rules_file(tmp_path)
    before = load_rules(path)
    rules_file(tmp_path, set_to("defaults.guest_count", 35))

    after = load_rules(path)

    assert before.default_guest_count == 20
    assert after.default_guest_count == 35


def test_rules_drive_the_analysis(tmp_path):
    def add_theme(document):
        document["themes"]["vocabulary"].append("steampunk")

    rules = load_rules(rules_file(tmp_path, add_theme, set_to("limits.guest_count.max", 50)))
    analyzer = InputAnalyzer(rules=rules, today=TODAY)

    assert analyzer.analyze(text="steampunk birthday for 40 guests").theme_preferences == ("steampunk",)
    with pytest.raises(BriefOutOfRange, match="1 to 50 guests"):
        analyzer.analyze(text="steampunk birthday for 80 guests")


def test_a_missing_rules_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        load_rules(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("limits: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping of sections"),
        ("", "must be a mapping of sections"),
    ],
)
def test_a_rules_file_that_is_not_a_mapping_is_refused(tmp_path, content, message):
    path = tmp_path / "rules.yaml"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ValueError, match=message):
        load_rules(path)


def drop_month(document):
    del document["dates"]["months"]["december"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (set_to("limits", DELETE), "'limits' is missing"),
        (set_to("agents", DELETE), "'agents' is missing"),
        (set_to("limits.max_text_length", "lots"), "'limits.max_text_length' must be a whole number"),
        (set_to("limits.max_text_length", 0), "must be at least 1"),
        (set_to("limits.budget.min", 5000000), "must have 0 <= min <= max"),
        (set_to("defaults.guest_count", 5000), "must lie within limits.guest_count"),
        (set_to("defaults.party_type", "birthday"), "must not be one of the party types"),
        (set_to("defaults.setting", "space"), "'defaults.setting' must be one of"),
        (set_to("classifier.confidence_threshold", 2), "must lie between 0 and 1"),
        (set_to("guest_count.patterns", ["(unclosed"]), "is not a valid regular expression"),
        (set_to("guest_count.patterns", [r"\d+ guests"]), "must capture the group(s) count"),
        (set_to("budget.patterns", ["{{nowhere}}"]), "uses the unknown fragment {{nowhere}}"),
        (set_to("budget.patterns", [3]), "must list only non-empty texts"),
        (set_to("fragments.amount", 3), "must be a regular expression or a list of phrases"),
        (set_to("dates.date_order", "YDM"), "must be MDY, DMY or YMD"),
        (set_to("dates.holidays.Halloween", {"keywords": ["halloween"], "month": 13, "day": 31}), "must give a month"),
        (set_to("budget.range_pattern", r"\d+"), "must capture the group(s) amount"),
        (set_to("text.replacements", {"(a)": "\\2"}), "does not fit its pattern"),
        (drop_month, "must list exactly 12 entries"),
        (set_to("dates.weekday_modifiers.next", "later"), "must map to this or next"),
        (set_to("limits.date_horizon_days", 0), "'limits.date_horizon_days' must be at least 1"),
        (set_to("numbers.groups", {}), "'numbers.groups' must not be empty"),
        (set_to("numbers.groups.dozen", "twelve"), "'numbers.groups.dozen' must be a whole number"),
        (set_to("party_types", {}), "'party_types' must not be empty"),
        (set_to("party_types.wedding", ["wedding"]), "'party_types.wedding' must be a mapping"),
        (set_to("party_types.wedding.age_group", "elders"), "'party_types.wedding.age_group' must be one of"),
        (set_to("party_types.wedding", {"guest_count": 100}), "needs at least one keyword or pattern"),
        (set_to("party_types.wedding.keywords", "wedding"), "'party_types.wedding.keywords' must be a list"),
        (set_to("dietary", {}), "'dietary' must not be empty"),
        (set_to("dietary.vegan", "vegan"), "must be a list of keywords or a mapping"),
        (set_to("themes.aliases.dino", "dragon"), "must point at vocabulary entries, not dragon"),
        (set_to("age_groups.bands.elders", [70, 120]), "'age_groups.bands.elders' must be an age group"),
        (set_to("age_groups.bands.kids", [12, 0]), "'age_groups.bands.kids' must be an age group"),
        (set_to("age_groups.explicit.seniors", ["retirees"]), "uses unknown value(s) seniors"),
        (set_to("age_groups.mixed", "everyone"), "'age_groups.mixed' must be one of"),
        (set_to("agents.cake.depends_on", ["florist"]), "names unknown agent(s) florist"),
        (set_to("agents.theme.depends_on", ["cake"]), "dependencies form a cycle among theme, cake"),
        (set_to("agents.venue.depends_on", ["venue"]), "dependencies form a cycle"),
        (set_to("agents", {}), "'agents' must not be empty"),
        (set_to("agents.budget.always_run", "yes please"), "'agents.budget.always_run' must be a flag"),
        (set_to("skip_rules.0.agent", "budget"), "must name an agent that may be skipped, not budget"),
        (set_to("skip_rules.0.agent", "florist"), "must name an agent that may be skipped, not florist"),
        (set_to("skip_rules.0.note", DELETE), "'skip_rules[0].note' is missing"),
        (set_to("skip_rules.1", "no cake"), "'skip_rules[1]' must be a mapping"),
    ],
)
def test_malformed_rules_are_refused_with_a_clear_message(tmp_path, change, message):
    path = rules_file(tmp_path, change)

    with pytest.raises(ValueError, match="Invalid analyzer rules in ") as refused:
        load_rules(path)

    assert message in str(refused.value)

"""The selection step: exact best fit within budget on random catalogs, the hard constraints, strategies and arms."""

import datetime
import itertools
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from agents.analyzer import Brief
from agents.cake import cake_options
from agents.constraints import MAX_CAKES_PER_ORDER, max_capacity, season_of
from agents.costs import reserved_share
from agents.selection import CENT, candidates_ranked, combinations_search, frame_for, select
from agents.strategies import STRATEGIES, active_arms, arm_for_owner, strategy_get
from agents.theme import theme_options
from agents.venue import venue_options
from planning.models import Bakery, Cake, City, Theme, Venue

AGES = ("kids", "teens", "adults", "all")
PARTIES = ("birthday", "wedding", "corporate", "mitzvah", "general")
DIETS = ("vegan", "gluten_free", "kosher", "sugar_free")
TAGS = ("kids", "elegant", "playful", "rustic", "music")


def make_brief(**overrides) -> Brief:
    base = {
        "party_type": "birthday", "guest_count": 30, "date": None, "city": "austin", "budget": 3000,
        "dietary_needs": [], "theme_preferences": [], "age_group": "adults", "setting": "any", "classified": True,
        "notes": [], "agents": ["theme", "venue", "cake", "budget"],
        "graph": {"theme": [], "venue": [], "cake": ["theme"], "budget": []},
    }  # fmt: skip
    return Brief.from_dict({**base, **overrides})


def random_catalog(rng: random.Random) -> tuple[list[Venue], list[Theme], list[Cake]]:
    """A small random catalog of unsaved rows in two cities."""
    cities = [City(slug="austin", name="Austin"), City(slug="denver", name="Denver")]
    venues = [
        Venue(
            city=rng.choice(cities), name=f"venue {index}", capacity=(capacity := rng.randint(10, 200)),
            min_guests=rng.randint(1, capacity // 2), base_price=rng.randint(150, 3000),
            price_per_guest=rng.randint(0, 40), setting=rng.choice(("indoor", "outdoor", "mixed")),
            amenities=rng.sample(["bar", "dance_floor", "kids_play_area", "garden"], rng.randint(0, 3)),
            party_types=["general", *rng.sample(PARTIES, 2)],
            audiences=rng.sample(["kids", "teens", "adults"], rng.randint(1, 3)), rating=Decimal("4.2"),
        )
        for index in range(rng.randint(3, 7))
    ]  # fmt: skip
    themes = [
        Theme(
            slug=f"theme-{index}", name=f"Theme {index}", keywords=[f"word{index}"],
            party_types=rng.sample(PARTIES, rng.randint(1, 3)), age_groups=rng.sample(AGES, rng.randint(1, 2)),
            seasons=rng.sample(["winter", "summer"], rng.randint(0, 1)), settings=[],
            decoration_base_cost=rng.randint(50, 900), cost_per_guest=rng.randint(0, 20),
            style_tags=rng.sample(TAGS, 2),
        )
        for index in range(rng.randint(3, 8))
    ]  # fmt: skip
    bakeries = [Bakery(city=city, name=f"bakery {city.slug}", rating=Decimal("4.5")) for city in cities]
    cakes = [
        Cake(
            bakery=rng.choice(bakeries), name=f"cake {index}", flavor="vanilla",
            price_per_serving=Decimal(rng.randint(250, 900)) / 100,
            dietary=rng.sample(DIETS, rng.randint(0, 3)), min_servings=(low := rng.randint(5, 30)),
            max_servings=low + rng.randint(10, 100), lead_time_days=rng.randint(1, 7),
            style_tags=rng.sample(TAGS, 2),
        )
        for index in range(rng.randint(3, 8))
    ]  # fmt: skip
    return venues, themes, cakes


def random_brief(rng: random.Random) -> Brief:
    date = timezone.localdate() + datetime.timedelta(days=rng.randint(1, 200))
    return make_brief(
        party_type=rng.choice(PARTIES),
        guest_count=rng.randint(5, 150),
        age_group=rng.choice(AGES),
        budget=rng.choice([None, rng.randint(300, 20000)]),
        dietary_needs=rng.sample(DIETS, rng.randint(0, 1)),
        date=date.isoformat(),
    )


def allowed_by_hand(venue: Venue, theme: Theme, cake: Cake, brief: Brief) -> bool:
    """The hard constraints, written out again for the brute force."""
    guests, age = brief.guest_count, brief.age_group
    known = {party for t in brief_themes for party in t.party_types}
    occasion = brief.party_type if brief.party_type in known else "general"
    days = (brief.date - timezone.localdate()).days
    quantity = -(-guests // cake.max_servings)
    return (
        venue.city.slug == brief.city
        and venue.min_guests <= guests <= venue.capacity <= max(4 * guests, guests + 30)
        and ("adults" if age == "all" else age) in venue.audiences
        and (bool({age, "all"} & set(theme.age_groups)) if age != "all" else bool(set(theme.age_groups) - {"kids"}))
        and occasion in theme.party_types
        and cake.bakery.city.slug == brief.city
        and quantity <= MAX_CAKES_PER_ORDER
        and set(brief.dietary_needs) <= set(cake.dietary)
        and cake.lead_time_days <= days
        and not (age != "kids" and "kids" in cake.style_tags)
    )


brief_themes: list[Theme] = []


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("seed", range(40))
def test_no_fitting_combination_beats_the_selection_on_random_catalogs(seed, strategy):
    rng = random.Random(seed)
    venues, themes, cakes = random_catalog(rng)
    brief = random_brief(rng)
    brief_themes[:] = themes
    candidates = {
        "venue": venue_options(venues, brief)[0],
        "theme": theme_options(themes, brief),
        "cake": cake_options(cakes, brief)[0],
    }
    chosen = select(brief=brief, candidates=candidates, strategy=STRATEGIES[strategy])

    # Brute force over the whole catalog, hard constraints checked by hand, scored by the same strategy.
    options = {key: {option["name"]: option for option in found} for key, found in candidates.items()}
    frame = frame_for(brief, candidates)
    scorer = STRATEGIES[strategy]
    allowance = (brief.budget or 0) * (1 - reserved_share(party_type=brief.party_type, age_group=brief.age_group))
    fitting, every = [], []
    for venue, theme, cake in itertools.product(venues, themes, cakes):
        if not allowed_by_hand(venue, theme, cake, brief):
            continue
        trio = options["venue"][venue.name], options["theme"][theme.name], options["cake"][cake.name]
        cost = round(sum(option["cost"] for option in trio), 2)
        fit = sum(scorer.option_fit(key, option, frame) for key, option in zip(options, trio, strict=True))
        fit += scorer.pair_fit(trio[1], trio[2])
        every.append((fit, cost))
        if not brief.budget or cost <= allowance + CENT:
            fitting.append((fit, cost))

    if not every:
        assert set(chosen.picks) != {"venue", "theme", "cake"}, "the agents offered something the rules forbid"
        return
    assert set(chosen.picks) == {"venue", "theme", "cake"}
    if not brief.budget:
        assert chosen.feasible is None
        assert chosen.fit == pytest.approx(max(fit for fit, _ in every))
    elif fitting:
        assert chosen.feasible is True and chosen.cost <= allowance + CENT
        assert chosen.fit == pytest.approx(max(fit for fit, _ in fitting)), "a fitting combination fits better"
    else:
        assert chosen.feasible is False
        assert chosen.cost == pytest.approx(min(cost for _, cost in every)), "the cheapest plan, and by how much"
        assert chosen.needed_budget * allowance / brief.budget >= chosen.cost - CENT


def test_a_trimmed_candidate_list_still_holds_the_cheapest_option():
    rng = random.Random(7)
    for _ in range(200):
        scored = [(rng.uniform(0, 100), {"name": f"o{i}", "cost": rng.uniform(10, 1000)}) for i in range(30)]
        kept = candidates_ranked(scored, limit=5)
        assert len(kept) == 5
        assert min(option["cost"] for option in kept) == min(option["cost"] for _, option in scored)


def test_a_big_budget_does_not_buy_the_cheapest_things():
    options = {
        "venue": [
            {"name": "hall", "cost": 400, "facts": {"rating": 0.2}},
            {"name": "ballroom", "cost": 9000, "facts": {"rating": 1.3}},
        ],
        "theme": [
            {"name": "plain", "cost": 200, "facts": {}, "style_tags": []},
            {"name": "gala", "cost": 2500, "facts": {"party_type": 1}, "style_tags": []},
        ],
        "cake": [
            {"name": "sheet", "cost": 300, "facts": {}, "style_tags": []},
            {"name": "tiered", "cost": 1500, "facts": {"rating": 1}, "style_tags": []},
        ],
    }
    rich = select(brief=make_brief(party_type="wedding", budget=25000), candidates=options, strategy=strategy_get(None))
    assert {key: pick["name"] for key, pick in rich.picks.items()} == {
        "venue": "ballroom", "theme": "gala", "cake": "tiered",
    }  # fmt: skip
    assert rich.feasible is True and rich.utilisation > 0.7
    tight = select(brief=make_brief(party_type="wedding", budget=2000), candidates=options, strategy=strategy_get(None))
    assert tight.feasible is True and tight.cost <= 2000 * 0.65
    broke = select(brief=make_brief(party_type="wedding", budget=500), candidates=options, strategy=strategy_get(None))
    assert broke.feasible is False and broke.cost == 900 and broke.needed_budget == 1385


def test_arms_are_stable_per_owner_and_follow_the_split(settings):
    settings.SELECTION_ARMS = {"balanced": 3, "value": 1}
    arms = [arm_for_owner(owner) for owner in range(4000)]
    assert arms == [arm_for_owner(owner) for owner in range(4000)]
    assert 0.70 < arms.count("balanced") / len(arms) < 0.80
    assert arm_for_owner(1, experiment="another") in ("balanced", "value")
    assert active_arms({"balanced": 0}) == [("balanced", 1.0)]
    with pytest.raises(ValueError, match="nonsense"):
        active_arms({"nonsense": 1})
    assert strategy_get("gone").name == "balanced"


# --- Hard constraints, one by one ----------------------------------------------------------------


def venue(**fields) -> Venue:
    base = dict(
        city=City(slug="austin", name="Austin"), name="v", capacity=60, min_guests=5, base_price=300,
        price_per_guest=5, setting="indoor", amenities=[], party_types=["general"], audiences=["adults"],
        rating=Decimal("4.5"),
    )  # fmt: skip
    return Venue(**{**base, **fields})


def names(options) -> list[str]:
    return [option["name"] for option in options]


@pytest.mark.parametrize(
    "fields, brief_fields, allowed",
    [
        ({"capacity": 29}, {}, False),  # too small
        ({"capacity": 30}, {}, True),
        ({"capacity": max_capacity(30) + 1}, {}, False),  # absurdly oversized
        ({"min_guests": 31}, {}, False),
        ({"city": City(slug="denver", name="Denver")}, {}, False),  # the city asked for
        ({"audiences": ["kids"], "amenities": ["kids_play_area"]}, {"age_group": "adults"}, False),  # play centre
        ({"audiences": ["kids"], "amenities": ["kids_play_area"]}, {"age_group": "all"}, False),
        ({"audiences": ["kids"], "amenities": ["kids_play_area"]}, {"age_group": "kids"}, True),
        ({"audiences": ["adults"], "amenities": ["bar"]}, {"age_group": "kids"}, False),  # bar-centred
        ({"audiences": ["adults"], "amenities": ["bar"]}, {"age_group": "teens"}, False),
        ({"audiences": ["kids", "teens"]}, {"age_group": "all"}, False),  # a mixed crowd has grown-ups
        ({"audiences": ["adults"]}, {"age_group": "all"}, True),
    ],
)
def test_venue_hard_constraints(fields, brief_fields, allowed):
    options, why_not = venue_options([venue(**fields)], make_brief(**brief_fields))
    assert bool(options) is allowed
    assert allowed or why_not


def theme(**fields) -> Theme:
    base = dict(
        slug="t", name="T", keywords=["heroes"], party_types=["birthday", "general"], age_groups=["kids"],
        seasons=[], settings=[], decoration_base_cost=100, cost_per_guest=5, style_tags=["kids"],
    )  # fmt: skip
    return Theme(**{**base, **fields})


@pytest.mark.parametrize(
    "fields, brief_fields, allowed",
    [
        ({}, {"age_group": "adults"}, False),  # a kids' theme at an adult event
        ({}, {"age_group": "all"}, False),
        ({}, {"age_group": "kids"}, True),
        ({}, {"age_group": "adults", "theme_preferences": ["heroes"]}, True),  # asked for by name
        ({"age_groups": ["adults"], "party_types": ["retirement"]}, {"party_type": "wedding"}, False),
        ({"age_groups": ["adults"], "party_types": ["general"]}, {"party_type": "quinceanera"}, True),
    ],
)
def test_theme_hard_constraints(fields, brief_fields, allowed):
    others = [theme(slug="other", name="Other", party_types=["retirement"], age_groups=["adults"])]
    options = theme_options([theme(**fields), *others], make_brief(**brief_fields))
    assert ("T" in names(options)) is allowed


def cake(**fields) -> Cake:
    base = dict(
        bakery=Bakery(city=City(slug="austin", name="Austin"), name="B", rating=Decimal("4.5")), name="C",
        flavor="vanilla", price_per_serving=Decimal("4.00"), dietary=["vegan", "kosher"], min_servings=10,
        max_servings=40, lead_time_days=3, style_tags=["classic"],
    )  # fmt: skip
    return Cake(**{**base, **fields})


def in_days(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    "fields, brief_fields, allowed, reason",
    [
        ({}, {"dietary_needs": ["vegan", "kosher"]}, True, ""),
        ({}, {"dietary_needs": ["halal"]}, False, "makes a halal cake"),
        ({}, {"days_ahead": 3}, True, ""),
        ({}, {"days_ahead": 2}, False, "the quickest needs 3 days' notice"),
        ({}, {"guest_count": 200}, True, ""),  # five cakes of 40
        ({}, {"guest_count": 201}, False, "can serve 201 guests"),
        ({"style_tags": ["kids"]}, {"age_group": "adults"}, False, ""),
        ({"style_tags": ["kids"]}, {"age_group": "all"}, False, ""),
        ({"style_tags": ["kids", "superhero"]}, {"age_group": "all", "theme_preferences": ["superhero"]}, True, ""),
        ({"style_tags": ["kids"]}, {"age_group": "kids"}, True, ""),
    ],
)
def test_cake_hard_constraints(fields, brief_fields, allowed, reason):
    if "days_ahead" in brief_fields:  # counted from the day the test runs, not the day it was collected
        brief_fields = {"date": in_days(brief_fields["days_ahead"])}
    options, why_not = cake_options([cake(**fields)], make_brief(**brief_fields))
    assert bool(options) is allowed
    assert reason in why_not


def test_a_big_party_gets_several_cakes_priced_per_serving():
    (option,), _ = cake_options([cake()], make_brief(guest_count=130))
    assert (option["quantity"], option["servings"], option["cost"]) == (4, 130, 520.0)
    assert "4 cakes of up to 40 servings each" in option["reasons"]


def test_seasons():
    assert [season_of(datetime.date(2027, month, 1)) for month in (1, 4, 7, 10)] == [
        "winter", "spring", "summer", "autumn",
    ]  # fmt: skip
    assert season_of(None) is None


@pytest.mark.parametrize(
    "arms, ok", [({"balanced": 1, "value": 1}, True), ({"nonsense": 1}, False), ({"balanced": 0}, False)]
)
def test_the_arms_setting_is_checked_at_startup(settings, arms, ok):
    from agents.checks import selection_arms_are_known

    settings.SELECTION_ARMS = arms
    errors = selection_arms_are_known(None)
    assert (errors == []) is ok
    assert ok or errors[0].id == "agents.E005"


def test_a_huge_search_is_trimmed_but_keeps_each_parts_cheapest(monkeypatch):
    monkeypatch.setattr("agents.selection.MAX_COMBINATIONS", 100)
    rng = random.Random(3)
    options = {
        part: [
            {"name": f"{part}{i}", "cost": rng.uniform(100, 900), "facts": {"rating": rng.random()}} for i in range(12)
        ]
        for part in ("venue", "theme", "cake")
    }
    cheapest = sum(min(option["cost"] for option in found) for found in options.values())
    brief = make_brief(budget=round(cheapest / 0.65) + 1)
    chosen = select(brief=brief, candidates=options, strategy=strategy_get(None))
    assert chosen.combinations <= 100
    assert chosen.feasible is True, "the cheapest of each part survives the trim"


def test_the_cake_says_when_it_goes_with_the_theme():
    options = {
        "theme": [{"name": "Jazz", "cost": 100, "facts": {}, "style_tags": ["retro", "music"]}],
        "cake": [
            {"name": "Plain", "cost": 50, "facts": {}, "style_tags": ["classic"]},
            {"name": "Deco", "cost": 60, "facts": {}, "style_tags": ["retro", "elegant"], "reasons": []},
        ],
    }
    chosen = select(brief=make_brief(budget=None), candidates=options, strategy=strategy_get(None))
    assert chosen.picks["cake"]["name"] == "Deco"
    assert chosen.picks["cake"]["reasons"] == ["goes with the Jazz theme (retro)"]


def test_themes_follow_the_season_and_the_setting_and_note_an_unknown_occasion():
    summer = theme(slug="beach", name="Beach", age_groups=["all"], party_types=["general"], seasons=["summer"],
                   settings=["outdoor"])  # fmt: skip
    brief = make_brief(party_type="potluck", date="2027-07-10", setting="indoor", age_group="adults")
    (option,) = theme_options([summer], brief)
    assert option["facts"]["season"] == 1.0 and option["facts"]["setting"] == -1.0
    from agents.theme import theme_notes

    assert theme_notes([summer], brief) == ["No theme is made for potluck parties; general themes offered."]


def combinations_search_reference(options, *, pair, theme_at, allowance):
    """The search as first written, one tuple per combination: the oracle of `combinations_search`."""
    best = cheapest = None
    combinations = 0
    cake_at = len(options) - 1
    for triple in itertools.product(*[[(fit, cost, i) for i, (fit, cost) in enumerate(o)] for o in options]):
        combinations += 1
        fits, costs, combo = zip(*triple, strict=True)
        fit = sum(fits)
        cost = round(sum(costs), 2)
        if pair is not None:
            fit += pair[combo[theme_at]][combo[cake_at]]
        if cheapest is None or (cost, -fit) < (cheapest[1], -cheapest[0]):
            cheapest = (fit, cost, combo)
        if allowance is not None and cost > allowance + CENT:
            continue
        if best is None or (fit, -cost) > (best[0], -best[1]):
            best = (fit, cost, combo)
    return best, cheapest, combinations


def test_the_combination_search_finds_exactly_what_trying_each_combination_finds():
    rng = random.Random(20261207)
    fits = [0.0, 0.5, 1 / 3, 2 / 3, 1.1, 2.2, 3.3, 7.25]
    for case in range(400):
        sizes = [rng.randint(1, 9) for _ in range(rng.randint(1, 3))]
        options = [
            [
                (rng.choice(fits) if rng.random() < 0.7 else rng.uniform(0, 10), rng.choice([9.99, 10.0, 0.1, 0.2, 0.3])
                 if rng.random() < 0.4 else round(rng.uniform(0, 2000), 2))
                for _ in range(size)
            ]
            for size in sizes
        ]  # fmt: skip
        pair = None
        if len(sizes) >= 2 and rng.random() < 0.6:
            pair = [[rng.choice([0.0, 0.1, 0.2, 1 / 3]) for _ in range(sizes[-1])] for _ in range(sizes[-2])]
        theme_at = len(sizes) - 2
        allowance = rng.choice([None, 0.3, 10.295, 1000.0, rng.uniform(0, 4000)])

        found = combinations_search(options, pair=pair, theme_at=theme_at, allowance=allowance)

        assert found == combinations_search_reference(options, pair=pair, theme_at=theme_at, allowance=allowance), case

"""City: catalog cities by any spelling; places the catalog lacks; where someone comes from."""

import pytest

from agents.analyzer import CityRef
from agents.analyzer.city import CityIndex, unknown_place_in

CITIES = (CityRef("chicago", "Chicago", ("chi-town",)), CityRef("denver", "Denver"), CityRef("los-angeles", "LA"))


@pytest.fixture
def index(rules):
    return CityIndex(CITIES, rules.cities.aliases)


def test_the_first_city_is_found_but_not_where_someone_moves_to(rules, index):
    assert index.find("party in chi-town") == "chicago"
    assert index.find("he's moving to denver. party in chicago", rules.cities.elsewhere) == "chicago"
    assert index.find("flying in from denver", rules.cities.elsewhere) == "denver"


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("Party in Phoenix for 30 people", "Phoenix"),
        ("Wedding, ~150 guests, Napa, September 2026", "Napa"),
        ("just 15 guests, Big Sur, Sept 12", "Big Sur"),
        ("- city: San Antonio\n- budget: 1000", "San Antonio"),
    ],
)
def test_a_place_the_catalog_lacks_is_named(rules, text, place):
    vocabularies = [rule.pattern for rule in rules.party_types]
    assert unknown_place_in(text, rules.cities, vocabularies) == place


@pytest.mark.parametrize("text", ["Hi! party in April", "Retirement dinner for Linda, 40 people", "no place here"])
def test_words_that_are_no_places_are_ignored(rules, text):
    assert unknown_place_in(text, rules.cities) is None

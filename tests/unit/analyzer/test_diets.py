"""Dietary needs: diets named in words, and a note for those the catalog cannot honour."""

import pytest

from agents.analyzer.diets import diets_in, diets_named, unsupported_note


@pytest.mark.parametrize(
    ("text", "needs"),
    [
        ("kosher catering required", ("kosher",)),
        ("kosher-style", ("kosher",)),
        ("halal meat for some guests", ("halal",)),
        ("uncle joe is diabetic", ("sugar_free",)),
        ("vegan + egg-free", ("egg_free", "vegan")),
        ("shellfish allergy in the family", ("shellfish_free",)),
        ("two pescatarians", ("pescatarian",)),
        ("vegetarian-friendly", ("vegetarian",)),
    ],
)
def test_diets_in_words(rules, text, needs):
    assert diets_in(text, rules.dietary) == needs


def test_structured_entries_may_be_options_or_words(rules):
    assert diets_named("Sugar-free", rules.dietary) == ["sugar_free"]
    assert diets_named("kosher", rules.dietary) == ["kosher"]
    assert diets_named(7, rules.dietary) == []


def test_diets_the_catalog_lacks_are_noted():
    note = unsupported_note(("kosher", "sugar_free", "vegan"), {"vegan"})

    assert "kosher, sugar free" in note and "vegan" not in note
    assert unsupported_note(("vegan",), {"vegan"}) is None
    assert unsupported_note(("kosher",), None) is None

"""Budget amounts: multipliers, ranges, per-guest prices and currencies (amounts read by price-parser)."""

import pytest

from agents.analyzer.budget import amounts_in
from agents.analyzer.text import digitised


def amount(rules, text):
    (found,) = amounts_in(digitised(text, rules.text), rules.budget)
    return found


@pytest.mark.parametrize(
    ("text", "dollars", "low"),
    [
        ("budget about three grand", 3000, None),
        ("$3k", 3000, None),
        ("10 grand", 10000, None),
        ("$2-3k", 3000, 2000),
        ("$6,000-$8,000", 8000, 6000),
        ("budget between $20k and $30k", 30000, 20000),
        ("budget $4,000-5,000", 5000, 4000),
        ("350$", 350, None),
        ("budget $1.5k", 1500, None),
        ("twenty thousand dollars", 20000, None),
        ("budget three thousand five hundred", 3500, None),
    ],
)
def test_amounts_ranges_and_multipliers(rules, text, dollars, low):
    found = amount(rules, text)

    assert (found.dollars, found.low, found.per_head) == (dollars, low, False)


@pytest.mark.parametrize(
    ("text", "dollars"),
    [("$50 per head", 50), ("$30pp", 30), ("$100/person", 100), ("$40 a head", 40), ("$50 each", 50)],
)
def test_per_guest_prices_are_marked(rules, text, dollars):
    found = amount(rules, text)

    assert (found.dollars, found.per_head) == (dollars, True)


def test_the_currency_is_kept(rules):
    assert amount(rules, "budget €2000").currency == "€"


def test_amounts_without_a_money_cue_are_not_budgets(rules):
    assert amounts_in("40 guests on 4/18 at 7pm", rules.budget) == []

"""Guest count: head counts, totals over parts, nouns that count double."""

import pytest

from agents.analyzer.guests import guest_count_in
from agents.analyzer.text import digitised


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("40ish people", 40),
        ("around 90 relatives", 90),
        ("112 rsvps", 112),
        ("15 kids plus parents (about 30 total)", 30),
        ("20 adults, 8 babies", 28),
        ("a dozen couples", 24),
        ("about 18 of us", 18),
        ("guests: 50.", 50),
        ("housewarming, 40ish, our house", 40),
        ("~150 alumni", 150),
        ("about 70 family & friends", 70),
        ("10 guys", 10),
        ("dinner for 16, at my place", 16),
    ],
)
def test_head_counts_in_everyday_phrasings(rules, text, count):
    assert guest_count_in(digitised(text, rules.text), rules.guests).count == count


@pytest.mark.parametrize("text", ["party at 7ish", "starts 7ish pm", "for 2 hours", "for $40 a head", "no count"])
def test_numbers_that_are_no_head_count(rules, text):
    assert guest_count_in(text, rules.guests).count is None

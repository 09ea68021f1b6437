"""A request full of dates is read up to its first date, not date by date."""

import datetime

from agents.analyzer import dates as dates_module
from agents.analyzer.dates import date_in


def test_dateparser_stops_at_the_first_segment_with_a_date(rules, monkeypatch):
    calls = []
    search = dates_module._search
    monkeypatch.setattr(dates_module, "_search", lambda text, settings: calls.append(text) or search(text, settings))
    text = "a party, no date here, March 3, " * 100

    found = date_in(text, text.lower(), datetime.date(2026, 3, 10), rules.dates)

    assert found.date == datetime.date(2027, 3, 3)
    assert calls == [" March 3,"]  # the strict pass (a month name, no relative phrase), on one segment only


def test_segments_that_cannot_hold_a_trusted_date_cost_no_search(rules, monkeypatch):
    calls = []
    search = dates_module._search
    monkeypatch.setattr(dates_module, "_search", lambda text, settings: calls.append(text) or search(text, settings))
    today = datetime.date(2026, 3, 10)

    plain = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"
    assert date_in(plain, plain.lower(), today, rules.dates).date is None
    assert calls == []

    dated = "40 guests, in 3 weeks, budget $2,000"
    assert date_in(dated, dated.lower(), today, rules.dates).date == datetime.date(2026, 3, 31)
    assert calls == [" in 3 weeks,"]  # only the relative pass, only where the relative phrase is

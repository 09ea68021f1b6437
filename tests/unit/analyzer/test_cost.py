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
    assert calls == [" March 3,", " March 3,"]  # the strict and the relative pass, on one segment only

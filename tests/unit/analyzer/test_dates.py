"""Dates: dateparser's finds, weekdays, holidays and vague dates (today is Tuesday 2026-03-10)."""

import datetime

import pytest

from agents.analyzer.dates import date_in
from agents.analyzer.text import digitised

TODAY = datetime.date(2026, 3, 10)


def find(rules, text, today=TODAY):
    cased = digitised(text, rules.text)
    return date_in(cased, cased.lower(), today, rules.dates)


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("on 10/17", "2026-10-17"),
        ("Saturday May 16 2026, about 120 guests", "2026-05-16"),
        ("June 6, 2027", "2027-06-06"),
        ("5/15/2026", "2026-05-15"),
        ("Aug 21-23", "2026-08-21"),
        ("Dec 18, 80 people", "2026-12-18"),
        ("class of 2026, 6/13", "2026-06-13"),
        ("this Friday", "2026-03-13"),
        ("next Saturday", "2026-03-21"),
        ("tmrw", "2026-03-11"),
        ("the day after tomorrow", "2026-03-12"),
        ("in 3 weeks", "2026-03-31"),
        ("on the 4th of April", "2026-04-04"),
    ],
)
def test_calendar_and_relative_dates(rules, text, date):
    assert find(rules, text).date == datetime.date.fromisoformat(date)


@pytest.mark.parametrize(
    ("text", "holiday", "date"),
    [
        ("NYE party", "New Year's Eve", "2026-12-31"),
        ("halloween bash", "Halloween", "2026-10-31"),
        ("thanksgiving dinner", "Thanksgiving", "2026-11-26"),
        ("valentine's party", "Valentine's Day", "2027-02-14"),
        ("st. paddy's day crawl", "St. Patrick's Day", "2026-03-17"),
        ("easter egg hunt", "Easter", "2026-04-05"),
        ("memorial day bbq", "Memorial Day", "2026-05-25"),
    ],
)
def test_holidays_give_their_next_day(rules, text, holiday, date):
    found = find(rules, text)

    assert (found.holiday, found.date) == (holiday, datetime.date.fromisoformat(date))


def test_an_explicit_date_wins_over_a_holiday(rules):
    assert find(rules, "friendsgiving potluck, Nov 21").date == datetime.date(2026, 11, 21)


@pytest.mark.parametrize(
    ("text", "vague"),
    [
        ("a Saturday in the spring", ("the spring",)),
        ("September 2026", ("september 2026",)),
        ("sometime in late June", ("late june",)),
        ("the 2nd weekend of May", ("weekend of may",)),
        ("summer pool party, sometime in July", ("summer", "sometime in july")),
    ],
)
def test_vague_dates_leave_the_date_open_and_say_what_was_said(rules, text, vague):
    found = find(rules, text)

    assert found.date is None
    assert found.vague == vague


def test_a_date_in_the_past_is_reported_as_past(rules):
    assert find(rules, "on March 3, 2020").past == datetime.date(2020, 3, 3)


def test_dates_beyond_the_calendar_are_no_dates(rules):
    found = find(rules, "tomorrow, next friday, in a week", today=datetime.date(9999, 12, 31))

    assert found.date is None and found.past is None


def test_numbers_that_are_no_dates(rules):
    for text in ["for 2 hours", "a 5 year old", "her 40th", "50/50 raffle", "2027-02-30"]:
        assert find(rules, text).date is None, text

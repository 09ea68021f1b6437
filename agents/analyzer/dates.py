"""Date: calendar and relative dates read by dateparser (future-preferring, relative to the request's
day), weekdays ("next Saturday" is next week's), holidays, and vague dates that leave the date open."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from dateparser.search import search_dates
from dateutil.easter import easter
from dateutil.relativedelta import relativedelta
from dateutil.relativedelta import weekday as relative_weekday

from .rules import DateRules, HolidayRule
from .text import MASK, Span, key, masked

_CHUNK = re.compile(rf"[^\n;!?()\[\]{MASK}]+")
_NUMERIC_DATE = re.compile(r"\d{1,4}\s*[/.-]\s*\d{1,2}")
_COMMA = re.compile(r"[^,]+,?")
_WEEKDAY_END = re.compile(r"(?:mon|tues|wednes|thurs|fri|satur|sun)day\s*,\s*$", re.IGNORECASE)
_YEAR_START = re.compile(r"\s*\d{4}\b")


@dataclass(frozen=True)
class DateFinding:
    """What the request says about the date: a day, a day in the past, a holiday, or only a vague time."""

    date: datetime.date | None = None
    past: datetime.date | None = None
    holiday: str | None = None
    vague: tuple[str, ...] = ()
    spans: tuple[Span, ...] = ()


def date_in(text: str, plain: str, today: datetime.date, rules: DateRules) -> DateFinding:
    """The first date mentioned in `text` (cased) / `plain` (its lowercase twin).

    A date in the past is reported as `past`; without a date, a holiday gives its next day and a vague
    mention ("in the spring", "sometime in July") is reported as `vague`.
    """
    indefinite = [match.span() for match in rules.indefinite_weekday.finditer(plain)]
    found = _offset_dates(plain, today, rules)
    indefinite += [(start, end) for start, end, _ in found]
    found += _parsed_dates(masked(text, indefinite), today, rules)
    weekdays = _weekday_dates(masked(plain, indefinite), today, rules)
    found += [hit for hit in weekdays if not _overlaps(hit[:2], found)]
    spans = tuple((start, end) for start, end, _ in found)
    if found:
        first = min(found, key=lambda hit: hit[0])[2]
        return DateFinding(date=first, spans=spans) if first >= today else DateFinding(past=first, spans=spans)
    holiday = _holiday_in(plain, today, rules.holidays)
    if holiday:
        return DateFinding(date=holiday[1], holiday=holiday[0])
    vague = sorted(
        (match.start(), match.group().strip()) for pattern in rules.vague for match in pattern.finditer(plain)
    )
    return DateFinding(vague=tuple(dict.fromkeys(phrase for _, phrase in vague)))


def _overlaps(span: tuple[int, int], hits: list[tuple[int, int, datetime.date]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end, _ in hits)


def _settings(today: datetime.date, rules: DateRules, strict: bool) -> dict:
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": datetime.datetime.combine(today, datetime.time()),
        "DATE_ORDER": rules.date_order,
    }
    return {**settings, "REQUIRE_PARTS": ["day", "month"]} if strict else settings


def _search(chunk: str, settings: dict) -> list[tuple[str, datetime.datetime]]:
    try:
        return search_dates(chunk, languages=["en"], settings=settings) or []
    except (ValueError, OverflowError):  # a date beyond the calendar, e.g. "tomorrow" on 9999-12-31
        return []


def _segments(text: str) -> list[tuple[int, str]]:
    """The text cut at line and clause breaks and at commas, keeping "Saturday, July 18" and
    "October 10th, 2026" whole, as (offset, segment)."""
    pieces: list[tuple[int, str]] = []
    for chunk in _CHUNK.finditer(text):
        for part in _COMMA.finditer(chunk.group()):
            start, piece = chunk.start() + part.start(), part.group()
            if pieces and (_WEEKDAY_END.search(pieces[-1][1]) or _YEAR_START.match(piece)):
                merged_start = pieces.pop()[0]
                piece = text[merged_start : start + len(piece)]
                start = merged_start
            pieces.append((start, piece))
    return pieces


def _parsed_dates(text: str, today: datetime.date, rules: DateRules) -> list[tuple[int, int, datetime.date]]:
    """The first calendar date (with a month name or in figures) or relative date, as dateparser reads
    them, segment by segment: later segments are not read once one has a date (the first date wins,
    and a request full of dates costs no more than one)."""
    try:
        horizon = today + datetime.timedelta(days=rules.horizon_days)
    except OverflowError:
        horizon = datetime.date.max
    for offset, segment in _segments(text):
        hits: list[tuple[int, int, datetime.date]] = []
        for strict in _passes(segment, rules):
            cursor = 0
            for phrase, moment in _search(segment, _settings(today, rules, strict)):
                found = segment.find(phrase, cursor)
                if found < 0:
                    continue
                cursor = found + len(phrase)
                start = offset + found
                if _overlaps((start, start + len(phrase)), hits) or not _trusted(phrase, strict, rules):
                    continue
                date, length = _within_horizon(phrase, moment.date(), horizon, today, rules)
                if date is not None:
                    hits.append((start, start + length, date))
        if hits:
            return hits
    return []


def _passes(segment: str, rules: DateRules) -> tuple[bool, ...]:
    """The dateparser passes whose finds could be trusted in this segment (see `_trusted`): a find is
    part of its segment, so a segment without a month name, figures like "4/18" or a relative phrase
    ("40 guests", "$3,000") costs no search at all."""
    strict = bool(rules.months.search(segment) or _NUMERIC_DATE.search(segment))
    relative = bool(rules.relative.search(segment.lower()))
    return tuple(mode for mode, wanted in ((True, strict), (False, relative)) if wanted)


def _trusted(phrase: str, strict: bool, rules: DateRules) -> bool:
    """Strict finds need a month name or figures ("4/18"); the others must be relative ("in 3 weeks")."""
    if strict:
        return bool(rules.months.search(phrase) or _NUMERIC_DATE.search(phrase))
    return bool(rules.relative.search(phrase.lower()))


def _within_horizon(
    phrase: str, date: datetime.date, horizon: datetime.date, today: datetime.date, rules: DateRules
) -> tuple[datetime.date | None, int]:
    """The date and the length of the phrase that says it, without trailing numbers that dateparser
    took for a year ("Aug 21-23" as 2123, "Dec 18, 80 people" as 1980) or ignored ("July 4th, 30")."""
    shorter = re.split(r"\s*[-,](?!\s*\d{4}\b)\s*", phrase, maxsplit=1)[0]
    if shorter == phrase or str(date.year) in shorter:
        return (date if today <= date <= horizon or str(date.year) in phrase else None), len(phrase)
    again = _search(shorter, _settings(today, rules, strict=True))
    if again and today <= again[0][1].date() <= horizon:
        return again[0][1].date(), len(shorter)
    return (date if today <= date <= horizon or str(date.year) in phrase else None), len(phrase)


def _offset_dates(plain: str, today: datetime.date, rules: DateRules) -> list[tuple[int, int, datetime.date]]:
    """Days counted from today by phrases dateparser misreads ("the day after tomorrow")."""
    hits = []
    for match in rules.day_offsets.finditer(plain):
        try:
            hits.append(
                (match.start(), match.end(), today + datetime.timedelta(days=rules.offsets[key(match.group())]))
            )
        except OverflowError:
            continue
    return hits


def _weekday_dates(plain: str, today: datetime.date, rules: DateRules) -> list[tuple[int, int, datetime.date]]:
    """Weekdays: "Saturday" or "this Saturday" is the first from today on, "next Saturday" next week's."""
    hits = []
    for match in rules.weekday.finditer(plain):
        name = match.group("name") or match.group("weekday")
        target = rules.weekdays.get(key(name))
        which = rules.weekday_modifiers.get(key(match.group("which") or ""), "this")
        if target is None:
            continue
        days = 7 - today.weekday() + target if which == "next" else (target - today.weekday()) % 7
        try:
            hits.append((match.start(), match.end(), today + datetime.timedelta(days=days)))
        except OverflowError:
            continue
    return hits


def _holiday_in(
    plain: str, today: datetime.date, holidays: tuple[HolidayRule, ...]
) -> tuple[str, datetime.date] | None:
    """The first holiday the request names, and its next day from today on."""
    named = sorted(
        (match.start(), index) for index, rule in enumerate(holidays) if (match := rule.pattern.search(plain))
    )
    for _, index in named:
        rule = holidays[index]
        for year in (today.year, today.year + 1):
            try:
                day = _holiday_day(rule, year)
            except (ValueError, OverflowError):
                continue
            if day >= today:
                return rule.name, day
    return None


def _holiday_day(rule: HolidayRule, year: int) -> datetime.date:
    if rule.easter is not None:
        return easter(year) + datetime.timedelta(days=rule.easter)
    if rule.day:
        return datetime.date(year, rule.month, rule.day)
    first = datetime.date(year, rule.month, 1)
    if rule.nth < 0:
        return first + relativedelta(day=31, weekday=relative_weekday(rule.weekday)(-1))
    return first + relativedelta(weekday=relative_weekday(rule.weekday)(rule.nth))

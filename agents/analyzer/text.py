"""Text normalisation: request text cleaned, abbreviations expanded, numbers as digits (text2num)."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from text_to_num import alpha2digit

from .rules import LabelledPattern, TextRules

Span = tuple[int, int]
MASK = "\x00"

_TAG = re.compile(r"<[^<>]*>")
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
    "\ud800-\udfff\ue000-\uf8ff\U000e0000-\U000e007f\U000f0000-\U0010ffff]"
)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")
_TYPOGRAPHY = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": " - "}
)
_SEPARATORS = re.compile(r"[\s'\-]+")
_QUOTE_MARKERS = re.compile(r"^[>\s]+", re.MULTILINE)
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def clean_text(raw: str) -> str:
    """Unescape HTML, drop tags, quote markers and invisible or control characters, and tidy whitespace.

    Line breaks are kept (as single newlines): a line of a bulleted request is a unit of its own.
    """
    text = _INVISIBLE.sub("", _TAG.sub(" ", html.unescape(raw.replace("\r", "\n")))).translate(_TYPOGRAPHY)
    text = _QUOTE_MARKERS.sub("", text)
    return _BLANK_LINES.sub("\n", _SPACES.sub(" ", text)).strip()


def truncated(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary where there is one."""
    cut = text[:limit]
    if text[limit] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip()


def digitised(text: str, rules: TextRules) -> str:
    """`text` with abbreviations expanded and spelled-out numbers as digits ("three grand" -> "3 grand")."""
    for pattern, replacement in rules.replacements:
        text = pattern.sub(replacement, text)
    with contextlib.suppress(ValueError, RuntimeError):  # text2num refuses a few odd inputs: words stay words
        text = alpha2digit(text, "en", 0)
    return rules.number_groups.sub(lambda match: _group_value(match, rules), text)


def _group_value(match: re.Match[str], rules: TextRules) -> str:
    count, group = match.group("count"), match.group("group")
    times = 1 if count is None or count.lower() in rules.articles else int(count)
    return str(times * rules.group_values[group.lower()])


def key(text: str) -> str:
    """A spelling reduced for lookups: lowercase, without spaces, hyphens or apostrophes."""
    return _SEPARATORS.sub("", text.lower())


def keyword_regex(phrase: str, bounded: bool) -> str:
    """A phrase as a regex: any run of spaces or hyphens matches any other, apostrophes are optional."""
    parts = [re.escape(part).replace("'", "'?") for part in re.split(r"[\s-]+", phrase.strip().lower()) if part]
    body = r"[\s-]*".join(parts)
    if not bounded:
        return body
    start = r"(?<!\w)" if re.match(r"\w", phrase.strip()) else ""
    end = r"(?!\w)" if re.search(r"\w$", phrase.strip()) else ""
    return f"{start}{body}{end}"


def alternation(phrases: Iterable[str], bounded: bool) -> str:
    """Phrases as regex alternatives, longest first; `bounded` keeps them to whole words."""
    ordered = sorted({str(phrase) for phrase in phrases}, key=lambda phrase: (-len(phrase), phrase))
    return "|".join(keyword_regex(phrase, bounded) for phrase in ordered)


def masked(text: str, spans: Iterable[Span]) -> str:
    """`text` with the spans blanked out, so later patterns cannot read them again."""
    characters = list(text)
    for start, end in spans:
        characters[start:end] = MASK * (end - start)
    return "".join(characters)


def shown(value: Any) -> str:
    """A value as quoted in a note, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def labels_in(text: str, labelled: Iterable[LabelledPattern]) -> list[str]:
    """The labels whose patterns occur in `text`, in rule order."""
    return [entry.label for entry in labelled if entry.pattern.search(text)]


def one_label(labels: Sequence[str], mixed: str) -> str | None:
    """The single label found, the mixed label when several were, None when none was."""
    if len(labels) > 1:
        return mixed
    return labels[0] if labels else None


@dataclass(frozen=True)
class Request:
    """One request's text in the forms the extractors read.

    `cased` keeps the writer's capitals (for names of places); `plain` is its lowercase twin. Both have
    numbers as digits and the same length, so a span found in one is valid in the other.
    """

    original: str
    cased: str
    plain: str

    @classmethod
    def of(cls, text: str, rules: TextRules) -> Request:
        """Normalise cleaned request text."""
        cased = digitised(text, rules)
        plain = "".join(char.lower() if len(char.lower()) == 1 else char for char in cased)
        return cls(original=text, cased=cased, plain=plain)

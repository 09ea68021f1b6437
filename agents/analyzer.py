"""InputAnalyzer: turns a party request in plain words and/or structured fields into a validated Brief.

Pure Python with no framework or database access. Every keyword, pattern, default, bound and the
agents' dependency graph come from a rules file (agents/rules/analyzer.yaml unless another is given),
which `load_rules` validates once and caches.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
import functools
import html
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .graph import topological_order

logger = logging.getLogger(__name__)

DEFAULT_RULES_PATH = Path(__file__).resolve().parent / "rules" / "analyzer.yaml"
STRUCTURED_FIELDS = (
    "party_type",
    "guest_count",
    "date",
    "city",
    "budget",
    "dietary_needs",
    "theme_preferences",
    "age_group",
    "setting",
)
FALLBACK_NOTE = "Analysis failed; used safe defaults."

Classifier = Callable[[str], tuple[str, float] | None]
Span = tuple[int, int]

_TAG = re.compile(r"<[^<>]*>")
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
    "\ud800-\udfff\ue000-\uf8ff\U000e0000-\U000e007f\U000f0000-\U0010ffff]"
)
_WHITESPACE = re.compile(r"\s+")
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-"})
_SEPARATORS = re.compile(r"[\s'\-]+")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_FRAGMENT = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_PLAIN_NUMBER = re.compile(r"\d{1,15}(?:\.\d{1,6})?", re.ASCII)
_LARGEST_PLAIN_NUMBER = Decimal(10) ** 15
_MASK = "\x00"


# --------------------------------------------------------------------------------------------------
# Public value types


@dataclass(frozen=True)
class CityRef:
    """A city the planner serves, found in requests by its name, slug or aliases."""

    slug: str
    name: str
    aliases: tuple[str, ...] = ()


_TUPLE_FIELDS = ("dietary_needs", "theme_preferences", "notes", "agents")


@dataclass(frozen=True)
class Brief:
    """The validated description of a party that the domain agents work from."""

    party_type: str
    guest_count: int
    date: datetime.date | None
    city: str | None
    budget: int | None
    dietary_needs: tuple[str, ...]
    theme_preferences: tuple[str, ...]
    age_group: str
    setting: str
    classified: bool
    notes: tuple[str, ...]
    agents: tuple[str, ...]
    graph: dict[str, tuple[str, ...]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy: the date as an ISO string (or None), tuples as lists."""
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        data["date"] = self.date.isoformat() if self.date else None
        for name in _TUPLE_FIELDS:
            data[name] = list(data[name])
        data["graph"] = {agent: list(needs) for agent, needs in self.graph.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Brief:
        """Rebuild a Brief from `to_dict` output."""
        missing = [field.name for field in dataclasses.fields(cls) if field.name not in data]
        if missing:
            raise ValueError(f"Brief data lacks {', '.join(missing)}.")
        values = {field.name: data[field.name] for field in dataclasses.fields(cls)}
        date = values["date"]
        values["date"] = datetime.date.fromisoformat(date) if isinstance(date, str) else date
        for name in _TUPLE_FIELDS:
            values[name] = tuple(values[name])
        values["graph"] = {agent: tuple(needs) for agent, needs in values["graph"].items()}
        return cls(**values)


# --------------------------------------------------------------------------------------------------
# Parsed rules


@dataclass(frozen=True)
class LabelledPattern:
    """A label (a diet, a setting, an age group) and the pattern whose presence signals it."""

    label: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class PartyTypeRule:
    """A party type, what signals it, and its own defaults."""

    name: str
    pattern: re.Pattern[str]
    guest_count: int
    age_group: str


@dataclass(frozen=True)
class NumberWords:
    """Spelled-out numbers ("twenty-five", "two dozen", "fifth") and how to write them as digits."""

    pattern: re.Pattern[str]
    values: Mapping[str, int]
    ordinals: frozenset[str]
    articles: frozenset[str]

    def to_digits(self, text: str) -> str:
        """`text` with every spelled-out number replaced by digits ("fifth" becomes "5th")."""
        return self.pattern.sub(self._digits, text)

    def _digits(self, match: re.Match[str]) -> str:
        tens, unit, base, multiplier, word = match.group("tens", "unit", "base", "multiplier", "word")
        if tens:
            return _numeral(self.values[tens] + self.values[unit], unit in self.ordinals)
        if multiplier:
            count = 1 if base in self.articles else self.values[base]
            return _numeral(count * self.values[multiplier], ordinal=False)
        return _numeral(self.values[word], word in self.ordinals)


@dataclass(frozen=True)
class DateRules:
    """Date patterns and the vocabularies their captured words are looked up in (keys as `_key`)."""

    patterns: tuple[re.Pattern[str], ...]
    months: Mapping[str, int]
    weekdays: Mapping[str, int]
    weekday_modifiers: Mapping[str, str]
    relative_days: Mapping[str, int]
    relative_units: Mapping[str, tuple[int, int]]


@dataclass(frozen=True)
class ThemeRules:
    """Theme vocabulary (with other spellings) and the patterns that capture themes near "theme"."""

    vocabulary: re.Pattern[str]
    canonical: Mapping[str, str]
    phrase_patterns: tuple[tuple[re.Pattern[str], bool], ...]
    stop_words: frozenset[str]
    stop_word_pattern: re.Pattern[str]
    max_words: int
    max_chars: int


@dataclass(frozen=True)
class AgeRules:
    """How the age group is read: explicit phrases, then an age, then words about the guests."""

    values: tuple[str, ...]
    bands: tuple[tuple[str, int, int], ...]
    explicit: tuple[LabelledPattern, ...]
    age_patterns: tuple[re.Pattern[str], ...]
    keywords: tuple[LabelledPattern, ...]
    mixed: str

    def band_for(self, age: int) -> str | None:
        """The age group an age in years falls in, if any."""
        return next((label for label, low, high in self.bands if low <= age <= high), None)


@dataclass(frozen=True)
class AgentRule:
    """A domain agent and the agents whose results it needs first."""

    name: str
    depends_on: tuple[str, ...]
    always_run: bool


@dataclass(frozen=True)
class SkipRule:
    """A request phrase that makes an agent unnecessary, and the note that says so."""

    agent: str
    pattern: re.Pattern[str]
    note: str


@dataclass(frozen=True)
class AnalyzerRules:
    """Everything the analyzer knows, parsed and validated from a rules file by `load_rules`."""

    source: str
    max_text_length: int
    guest_count_range: tuple[int, int]
    budget_range: tuple[int, int]
    fallback_party_type: str
    default_guest_count: int
    default_age_group: str
    default_setting: str
    classifier_threshold: float
    numbers: NumberWords
    party_types: tuple[PartyTypeRule, ...]
    guest_count_patterns: tuple[re.Pattern[str], ...]
    budget_patterns: tuple[re.Pattern[str], ...]
    budget_multipliers: Mapping[str, int]
    dates: DateRules
    dietary: tuple[LabelledPattern, ...]
    themes: ThemeRules
    ages: AgeRules
    settings: tuple[LabelledPattern, ...]
    mixed_setting: str
    city_aliases: Mapping[str, tuple[str, ...]]
    agents: tuple[AgentRule, ...]
    skip_rules: tuple[SkipRule, ...]

    @property
    def party_type_names(self) -> tuple[str, ...]:
        """The party types the rules can classify, in rule-file order."""
        return tuple(rule.name for rule in self.party_types)

    @property
    def dietary_options(self) -> tuple[str, ...]:
        """The dietary needs a brief can carry."""
        return tuple(diet.label for diet in self.dietary)

    @property
    def setting_values(self) -> tuple[str, ...]:
        """The settings a brief can carry."""
        labels = [setting.label for setting in self.settings]
        return tuple(dict.fromkeys([*labels, self.mixed_setting, self.default_setting]))

    def party_type_defaults(self, party_type: str) -> tuple[int, str]:
        """The default guest count and age group for a party type (or for the fallback type)."""
        for rule in self.party_types:
            if rule.name == party_type:
                return rule.guest_count, rule.age_group
        return self.default_guest_count, self.default_age_group


# --------------------------------------------------------------------------------------------------
# Loading and validating rules


def load_rules(path: str | os.PathLike[str] | None = None) -> AnalyzerRules:
    """Load and validate a rules file; None means the bundled agents/rules/analyzer.yaml.

    Raises ValueError naming the problem when the file is malformed (missing sections, wrong types,
    bad regular expressions, unknown agents, dependency cycles) and OSError when it cannot be read.
    Results are cached per file and refreshed when the file changes.
    """
    resolved = Path(DEFAULT_RULES_PATH if path is None else path).resolve()
    status = resolved.stat()
    return _cached_rules(str(resolved), status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=32)
def _cached_rules(path: str, modified_ns: int, size: int) -> AnalyzerRules:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"Invalid analyzer rules in {path}: not valid YAML ({exc}).") from exc
    return _build_rules(document, path)


_REQUIRED = object()
_KIND_NAMES = {
    int: "a whole number",
    float: "a number",
    str: "a text",
    list: "a list",
    dict: "a mapping",
    bool: "a flag",
}


def _is_kind(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is str:
        return isinstance(value, str) and bool(value.strip())
    return isinstance(value, kind)


class _RuleReader:
    """Reads one rules document; every problem becomes a ValueError naming the entry at fault."""

    def __init__(self, document: Any, source: str) -> None:
        self.source = source
        self.fragments: dict[str, str] = {}
        if not isinstance(document, dict):
            raise self.error("the file", "must be a mapping of sections")
        self.document = document

    def error(self, where: str, problem: str) -> ValueError:
        return ValueError(f"Invalid analyzer rules in {self.source}: {where} {problem}.")

    def get(self, path: str, kind: type, default: Any = _REQUIRED) -> Any:
        """The value at a dotted path such as "limits.budget.min"."""
        parts = path.split(".")
        node = self.document
        for index, part in enumerate(parts[:-1]):
            node = self.read(node, part, dict, ".".join(parts[:index]), {} if default is not _REQUIRED else default)
        return self.read(node, parts[-1], kind, ".".join(parts[:-1]), default)

    def read(self, node: Mapping[str, Any], key: str, kind: type, where: str, default: Any = _REQUIRED) -> Any:
        """`node[key]`, checked to be of `kind`."""
        location = f"'{where}.{key}'" if where else f"'{key}'"
        if key not in node:
            if default is _REQUIRED:
                raise self.error(location, "is missing")
            return default
        value = node[key]
        if not _is_kind(value, kind):
            raise self.error(location, f"must be {_KIND_NAMES[kind]}")
        return value

    def texts(self, node: Mapping[str, Any], key: str, where: str, default: Any = _REQUIRED) -> list[str]:
        """A list of non-empty texts at `node[key]`."""
        return self._only_texts(self.read(node, key, list, where, default), f"{where}.{key}")

    def texts_at(self, path: str, default: Any = _REQUIRED) -> list[str]:
        """A list of non-empty texts at a dotted path."""
        return self._only_texts(self.get(path, list, default), path)

    def _only_texts(self, values: list[Any], where: str) -> list[str]:
        if not all(_is_kind(value, str) for value in values):
            raise self.error(f"'{where}'", "must list only non-empty texts")
        return values

    def table(self, path: str, kind: type, default: Any = _REQUIRED) -> dict[str, Any]:
        """A mapping from texts to values of `kind`; it may be empty only when it has a default."""
        table = self.get(path, dict, default)
        for key, value in table.items():
            if not _is_kind(key, str) or not _is_kind(value, kind):
                raise self.error(f"'{path}.{key}'", f"must be {_KIND_NAMES[kind]}")
        if not table and default is _REQUIRED:
            raise self.error(f"'{path}'", "must not be empty")
        return table

    def number_range(self, path: str) -> tuple[int, int]:
        low, high = self.get(f"{path}.min", int), self.get(f"{path}.max", int)
        if not 0 <= low <= high:
            raise self.error(f"'{path}'", "must have 0 <= min <= max")
        return low, high

    def choice(self, path: str, allowed: Sequence[str]) -> str:
        value = self.get(path, str)
        if value not in allowed:
            raise self.error(f"'{path}'", f"must be one of {', '.join(allowed)}")
        return value

    def add_fragment(self, name: str, value: Any) -> None:
        """Declare {{name}}: a regular expression, or a list of phrases matched as alternatives."""
        where = f"'fragments.{name}'"
        if isinstance(value, list) and value and all(_is_kind(item, str) for item in value):
            body = _alternation(value, bounded=False)
        elif _is_kind(value, str):
            body = self.expand(value, where)
        else:
            raise self.error(where, "must be a regular expression or a list of phrases")
        self.compile(body, where)
        self.fragments[name] = body

    def expand(self, source: str, where: str) -> str:
        def fragment(match: re.Match[str]) -> str:
            if match.group(1) not in self.fragments:
                raise self.error(where, f"uses the unknown fragment {match.group(0)}")
            return f"(?:{self.fragments[match.group(1)]})"

        return _FRAGMENT.sub(fragment, source)

    def compile(self, source: str, where: str, groups: Sequence[str] = ()) -> re.Pattern[str]:
        """Compile a pattern (fragments expanded), requiring the named `groups`."""
        try:
            pattern = re.compile(self.expand(source, where), re.IGNORECASE)
        except re.error as exc:
            raise self.error(where, f"is not a valid regular expression ({exc})") from exc
        missing = [group for group in groups if group not in pattern.groupindex]
        if missing:
            raise self.error(where, f"must capture the group(s) {', '.join(missing)}")
        return pattern

    def patterns(self, path: str, groups: Sequence[str] = (), default: Any = _REQUIRED) -> tuple[re.Pattern[str], ...]:
        sources = self.texts_at(path, default)
        return tuple(self.compile(source, f"'{path}[{index}]'", groups) for index, source in enumerate(sources))

    def matcher(self, node: Any, where: str) -> re.Pattern[str]:
        """One pattern from a list of keywords, or from a mapping with `keywords` and/or `patterns`."""
        if isinstance(node, list):
            node = {"keywords": node}
        if not isinstance(node, dict):
            raise self.error(f"'{where}'", "must be a list of keywords or a mapping with keywords and/or patterns")
        keywords = self.texts(node, "keywords", where, [])
        sources = self.texts(node, "patterns", where, [])
        if not keywords and not sources:
            raise self.error(f"'{where}'", "needs at least one keyword or pattern")
        parts = [_alternation(keywords, bounded=True)] if keywords else []
        for index, source in enumerate(sources):
            self.compile(source, f"'{where}.patterns[{index}]'")
            parts.append(self.expand(source, where))
        return self.compile("|".join(f"(?:{part})" for part in parts), f"'{where}'")

    def labelled(self, path: str, allowed: Sequence[str] | None = None) -> tuple[LabelledPattern, ...]:
        """Label -> matcher entries, with labels optionally limited to `allowed`."""
        table = self.get(path, dict)
        if not table:
            raise self.error(f"'{path}'", "must not be empty")
        if allowed is not None and (unknown := [label for label in table if label not in allowed]):
            raise self.error(f"'{path}'", f"uses unknown value(s) {', '.join(map(str, unknown))}")
        return tuple(
            LabelledPattern(str(label), self.matcher(node, f"{path}.{label}")) for label, node in table.items()
        )


def _build_rules(document: Any, source: str) -> AnalyzerRules:
    reader = _RuleReader(document, source)
    numbers = _read_numbers(reader)
    date_tables = _read_date_tables(reader)
    budget_multipliers = reader.table("budget.multipliers", int)
    reader.fragments["budget_multiplier"] = _alternation(budget_multipliers, bounded=False)
    for name, value in reader.get("fragments", dict, {}).items():
        reader.add_fragment(str(name), value)
    ages = _read_ages(reader)
    settings = reader.labelled("settings.keywords")
    mixed_setting = reader.get("settings.mixed", str)
    defaults = {
        "party_type": reader.get("defaults.party_type", str),
        "guest_count": reader.get("defaults.guest_count", int),
        "age_group": reader.choice("defaults.age_group", ages.values),
        "setting": reader.choice("defaults.setting", [*(setting.label for setting in settings), mixed_setting]),
    }
    guest_count_range = reader.number_range("limits.guest_count")
    if not guest_count_range[0] <= defaults["guest_count"] <= guest_count_range[1]:
        raise reader.error("'defaults.guest_count'", "must lie within limits.guest_count")
    agents = _read_agents(reader)
    return AnalyzerRules(
        source=source,
        max_text_length=_positive(reader, "limits.max_text_length"),
        guest_count_range=guest_count_range,
        budget_range=reader.number_range("limits.budget"),
        fallback_party_type=defaults["party_type"],
        default_guest_count=defaults["guest_count"],
        default_age_group=defaults["age_group"],
        default_setting=defaults["setting"],
        classifier_threshold=_threshold(reader),
        numbers=numbers,
        party_types=_read_party_types(reader, defaults, ages.values),
        guest_count_patterns=reader.patterns("guest_count.patterns", ("count",)),
        budget_patterns=reader.patterns("budget.patterns", ("amount",)),
        budget_multipliers=_keyed(budget_multipliers),
        dates=DateRules(patterns=_read_date_patterns(reader), **date_tables),
        dietary=reader.labelled("dietary"),
        themes=_read_themes(reader),
        ages=ages,
        settings=settings,
        mixed_setting=mixed_setting,
        city_aliases=_read_city_aliases(reader),
        agents=agents,
        skip_rules=_read_skip_rules(reader, agents),
    )


def _positive(reader: _RuleReader, path: str) -> int:
    value = reader.get(path, int)
    if value < 1:
        raise reader.error(f"'{path}'", "must be at least 1")
    return value


def _threshold(reader: _RuleReader) -> float:
    threshold = reader.get("classifier.confidence_threshold", float)
    if not 0 <= threshold <= 1:
        raise reader.error("'classifier.confidence_threshold'", "must lie between 0 and 1")
    return float(threshold)


def _keyed(table: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType({_key(name): value for name, value in table.items()})


def _read_numbers(reader: _RuleReader) -> NumberWords:
    cardinals = reader.table("numbers.cardinals", int)
    ordinals = reader.table("numbers.ordinals", int)
    multipliers = reader.table("numbers.multipliers", int)
    articles = reader.texts_at("numbers.articles")
    tens = [word for word, value in cardinals.items() if value % 10 == 0 and 20 <= value <= 90]
    units = [word for word, value in {**cardinals, **ordinals}.items() if 1 <= value <= 9]
    if not tens or not units:
        raise reader.error("'numbers.cardinals'", "must include the units (1-9) and the tens (20-90)")
    words = functools.partial(_alternation, bounded=False)
    pattern = (
        rf"(?<![\w'])(?:(?P<tens>{words(tens)})[\s-]+(?P<unit>{words(units)})"
        rf"|(?P<base>{words([*cardinals, *articles])})\s+(?P<multiplier>{words(multipliers)})"
        rf"|(?P<word>{words([*cardinals, *ordinals, *multipliers])}))(?![\w'])"
    )
    return NumberWords(
        pattern=reader.compile(pattern, "'numbers'"),
        values=MappingProxyType(
            {word.lower(): value for word, value in {**cardinals, **ordinals, **multipliers}.items()}
        ),
        ordinals=frozenset(word.lower() for word in ordinals),
        articles=frozenset(word.lower() for word in articles),
    )


def _read_calendar_names(reader: _RuleReader, path: str, count: int, first: int) -> tuple[dict[str, int], list[str]]:
    """Names in calendar order, each with its abbreviations: spelling -> number, and the full names."""
    table = reader.get(path, dict)
    if len(table) != count:
        raise reader.error(f"'{path}'", f"must list exactly {count} entries in calendar order")
    numbers: dict[str, int] = {}
    for index, name in enumerate(table):
        for spelling in [name, *reader.texts(table, name, path)]:
            numbers[spelling] = first + index
    return numbers, [str(name) for name in table]


def _read_date_tables(reader: _RuleReader) -> dict[str, Mapping[str, Any]]:
    """The date vocabularies, also declared as the fragments {{month}}, {{weekday}} and friends."""
    months, _ = _read_calendar_names(reader, "dates.months", 12, 1)
    weekdays, weekday_names = _read_calendar_names(reader, "dates.weekdays", 7, 0)
    modifiers = reader.table("dates.weekday_modifiers", str)
    if unknown := sorted(set(modifiers.values()) - {"this", "next"}):
        raise reader.error("'dates.weekday_modifiers'", f"must map to this or next, not {', '.join(unknown)}")
    relative_days = reader.table("dates.relative_days", int)
    units = {unit: _read_unit(reader, unit, spec) for unit, spec in reader.table("dates.relative_units", dict).items()}
    spellings = {
        "month": months,
        "weekday": weekdays,
        "weekday_name": weekday_names,
        "weekday_modifier": modifiers,
        "relative_day": relative_days,
        "time_unit": units,
    }
    for name, words in spellings.items():
        reader.fragments[name] = _alternation(words, bounded=False)
    return {
        "months": _keyed(months),
        "weekdays": _keyed(weekdays),
        "weekday_modifiers": _keyed(modifiers),
        "relative_days": _keyed(relative_days),
        "relative_units": _keyed(units),
    }


def _read_unit(reader: _RuleReader, unit: str, spec: Mapping[str, Any]) -> tuple[int, int]:
    where = f"dates.relative_units.{unit}"
    days, months = reader.read(spec, "days", int, where, 0), reader.read(spec, "months", int, where, 0)
    if days < 0 or months < 0 or days + months == 0:
        raise reader.error(f"'{where}'", "must give a positive number of days and/or months")
    return days, months


def _read_date_patterns(reader: _RuleReader) -> tuple[re.Pattern[str], ...]:
    patterns = reader.patterns("dates.patterns")
    for index, pattern in enumerate(patterns):
        groups = set(pattern.groupindex)
        if not groups & {"relative_day", "weekday", "unit"} and not {"month", "day"} <= groups:
            raise reader.error(
                f"'dates.patterns[{index}]'", "must capture month and day, relative_day, weekday or unit"
            )
    return patterns


def _read_party_types(
    reader: _RuleReader, defaults: Mapping[str, Any], age_groups: Sequence[str]
) -> tuple[PartyTypeRule, ...]:
    table = reader.get("party_types", dict)
    if not table:
        raise reader.error("'party_types'", "must not be empty")
    if defaults["party_type"] in table:
        raise reader.error("'defaults.party_type'", "must not be one of the party types")
    rules = []
    for name, node in table.items():
        where = f"party_types.{name}"
        if not isinstance(node, dict):
            raise reader.error(f"'{where}'", "must be a mapping")
        age_group = reader.read(node, "age_group", str, where, defaults["age_group"])
        if age_group not in age_groups:
            raise reader.error(f"'{where}.age_group'", f"must be one of {', '.join(age_groups)}")
        guest_count = reader.read(node, "guest_count", int, where, defaults["guest_count"])
        rules.append(PartyTypeRule(str(name), reader.matcher(node, where), guest_count, age_group))
    return tuple(rules)


def _read_themes(reader: _RuleReader) -> ThemeRules:
    vocabulary = reader.texts_at("themes.vocabulary")
    aliases = reader.table("themes.aliases", str, {})
    if unknown := sorted(set(aliases.values()) - set(vocabulary)):
        raise reader.error("'themes.aliases'", f"must point at vocabulary entries, not {', '.join(unknown)}")
    canonical = {_key(theme): theme.lower() for theme in vocabulary} | {
        _key(alias): theme.lower() for alias, theme in aliases.items()
    }
    before = reader.patterns("themes.phrase_before_marker", ("theme",), [])
    after = reader.patterns("themes.phrase_after_marker", ("theme",), [])
    return ThemeRules(
        vocabulary=reader.compile(_alternation([*vocabulary, *aliases], bounded=True), "'themes.vocabulary'"),
        canonical=MappingProxyType(canonical),
        phrase_patterns=tuple((pattern, True) for pattern in before) + tuple((pattern, False) for pattern in after),
        stop_words=frozenset(word.lower() for word in reader.texts_at("themes.stop_words", [])),
        stop_word_pattern=reader.compile(reader.get("themes.stop_word_pattern", str), "'themes.stop_word_pattern'"),
        max_words=_positive(reader, "themes.max_words"),
        max_chars=_positive(reader, "themes.max_chars"),
    )


def _read_ages(reader: _RuleReader) -> AgeRules:
    values = tuple(reader.texts_at("age_groups.values"))
    bands = []
    for label, bounds in reader.table("age_groups.bands", list).items():
        well_formed = len(bounds) == 2 and all(_is_kind(bound, int) for bound in bounds) and bounds[0] <= bounds[1]
        if label not in values or not well_formed:
            raise reader.error(f"'age_groups.bands.{label}'", "must be an age group with [lowest, highest] ages")
        bands.append((label, bounds[0], bounds[1]))
    return AgeRules(
        values=values,
        bands=tuple(bands),
        explicit=reader.labelled("age_groups.explicit", values),
        age_patterns=reader.patterns("age_groups.age_patterns", ("age",)),
        keywords=reader.labelled("age_groups.keywords", values),
        mixed=reader.choice("age_groups.mixed", values),
    )


def _read_city_aliases(reader: _RuleReader) -> Mapping[str, tuple[str, ...]]:
    table = reader.get("cities.aliases", dict, {})
    return MappingProxyType({str(slug): tuple(reader.texts(table, slug, "cities.aliases")) for slug in table})


def _read_agents(reader: _RuleReader) -> tuple[AgentRule, ...]:
    table = reader.table("agents", dict)
    agents = tuple(
        AgentRule(
            name=str(name),
            depends_on=tuple(reader.texts(spec, "depends_on", f"agents.{name}", [])),
            always_run=reader.read(spec, "always_run", bool, f"agents.{name}", False),
        )
        for name, spec in table.items()
    )
    for agent in agents:
        if unknown := [need for need in agent.depends_on if need not in table]:
            raise reader.error(f"'agents.{agent.name}.depends_on'", f"names unknown agent(s) {', '.join(unknown)}")
    try:
        topological_order({agent.name: agent.depends_on for agent in agents})
    except ValueError as exc:
        raise reader.error("'agents'", str(exc)) from exc
    return agents


def _read_skip_rules(reader: _RuleReader, agents: Sequence[AgentRule]) -> tuple[SkipRule, ...]:
    skippable = [agent.name for agent in agents if not agent.always_run]
    rules = []
    for index, node in enumerate(reader.get("skip_rules", list, [])):
        where = f"skip_rules[{index}]"
        if not isinstance(node, dict):
            raise reader.error(f"'{where}'", "must be a mapping")
        agent = reader.read(node, "agent", str, where)
        if agent not in skippable:
            raise reader.error(f"'{where}.agent'", f"must name an agent that may be skipped, not {agent}")
        rules.append(SkipRule(agent, reader.matcher(node, where), reader.read(node, "note", str, where)))
    return tuple(rules)


# --------------------------------------------------------------------------------------------------
# Text helpers


def _clean_text(raw: str) -> str:
    """Unescape HTML, drop tags and invisible or control characters, and collapse whitespace."""
    text = _INVISIBLE.sub("", _TAG.sub(" ", html.unescape(raw)))
    return _WHITESPACE.sub(" ", text.translate(_TYPOGRAPHY)).strip()


def _truncated(text: str, limit: int) -> str:
    cut = text[:limit]
    if text[limit] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip()


def _key(text: str) -> str:
    """A spelling reduced for lookups: lowercase, without spaces, hyphens or apostrophes."""
    return _SEPARATORS.sub("", text.lower())


def _keyword_regex(phrase: str, bounded: bool) -> str:
    parts = [re.escape(part).replace("'", "'?") for part in re.split(r"[\s-]+", phrase.strip().lower()) if part]
    body = r"[\s-]*".join(parts)
    if not bounded:
        return body
    start = r"(?<!\w)" if re.match(r"\w", phrase.strip()) else ""
    end = r"(?!\w)" if re.search(r"\w$", phrase.strip()) else ""
    return f"{start}{body}{end}"


def _alternation(phrases: Iterable[str], bounded: bool) -> str:
    """Phrases as regex alternatives, longest first; `bounded` keeps them to whole words."""
    ordered = sorted({str(phrase) for phrase in phrases}, key=lambda phrase: (-len(phrase), phrase))
    return "|".join(_keyword_regex(phrase, bounded) for phrase in ordered)


def _numeral(value: int, ordinal: bool) -> str:
    if not ordinal:
        return str(value)
    suffix = "th" if 11 <= value % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}"


def _masked(text: str, spans: Iterable[Span]) -> str:
    """`text` with the spans blanked out, so later patterns cannot read them again."""
    characters = list(text)
    for start, end in spans:
        characters[start:end] = _MASK * (end - start)
    return "".join(characters)


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else f"{shown[:37]}..."


def _labels_in(text: str, labelled: Iterable[LabelledPattern]) -> list[str]:
    return [entry.label for entry in labelled if entry.pattern.search(text)]


def _one_label(labels: Sequence[str], mixed: str) -> str | None:
    """The single label found, the mixed label when several were, None when none was."""
    if len(labels) > 1:
        return mixed
    return labels[0] if labels else None


def _values_in(
    text: str, patterns: Iterable[re.Pattern[str]], value_of: Callable[[re.Match[str]], int]
) -> list[tuple[int, Span]]:
    return [(value_of(match), match.span()) for pattern in patterns for match in pattern.finditer(text)]


def _head_count(match: re.Match[str]) -> int:
    extra = match.groupdict().get("extra") or "0"
    return int(match.group("count").replace(",", "")) + int(extra.replace(",", ""))


def _whole_dollars(amount: Decimal) -> int:
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def _dollars_matched(match: re.Match[str], multipliers: Mapping[str, int]) -> int:
    multiplier = match.groupdict().get("multiplier")
    factor = multipliers.get(_key(multiplier), 1) if multiplier else 1
    return _whole_dollars(Decimal(match.group("amount").replace(",", "")) * factor)


# --------------------------------------------------------------------------------------------------
# Structured field values (each returns None when the value is unusable)


def _decimal_value(value: Any) -> Decimal | None:
    number: Decimal | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, float) and math.isfinite(value):
        number = Decimal(str(value))
    elif isinstance(value, Decimal) and value.is_finite():
        number = value
    elif isinstance(value, str):
        cleaned = value.strip().replace(",", "").removeprefix("$").strip()
        number = Decimal(cleaned) if _PLAIN_NUMBER.fullmatch(cleaned) else None
    return number if number is not None and abs(number) < _LARGEST_PLAIN_NUMBER else None


def _whole_number(value: Any) -> int | None:
    number = _decimal_value(value)
    return int(number) if number is not None and number == number.to_integral_value() else None


def _dollar_amount(value: Any) -> int | None:
    number = _decimal_value(value)
    return _whole_dollars(number) if number is not None else None


def _date_value(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.strip()).date()
        except ValueError:
            return None
    return None


def _choice_of(allowed: Iterable[str]) -> Callable[[Any], str | None]:
    options = set(allowed)

    def choice(value: Any) -> str | None:
        key = re.sub(r"[\s-]+", "_", value.strip().lower()) if isinstance(value, str) else None
        return key if key in options else None

    return choice


def _entries(value: Any) -> list[Any] | None:
    return list(value) if isinstance(value, list | tuple | set | frozenset) else None


def _prediction(prediction: Any) -> tuple[str, float] | None:
    """A classifier's (party_type, confidence), or None when it is not shaped like one."""
    if not isinstance(prediction, tuple | list) or len(prediction) != 2:
        return None
    label, confidence = prediction
    if not isinstance(label, str) or isinstance(confidence, bool) or not isinstance(confidence, int | float):
        return None
    return (label.strip().lower(), float(confidence)) if math.isfinite(confidence) else None


# --------------------------------------------------------------------------------------------------
# Dates


def _valid_date(year: int, month: int, day: int) -> datetime.date | None:
    if not (datetime.MINYEAR <= year <= datetime.MAXYEAR and 1 <= month <= 12):
        return None
    return datetime.date(year, month, day) if 1 <= day <= calendar.monthrange(year, month)[1] else None


def _next_occurrence(month: int, day: int, today: datetime.date) -> datetime.date | None:
    """The first month/day on or after today (within a leap cycle, for 29 February)."""
    for year in range(today.year, today.year + 9):
        candidate = _valid_date(year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _calendar_date(groups: Mapping[str, str], today: datetime.date, months: Mapping[str, int]) -> datetime.date | None:
    month_text = groups["month"]
    month = int(month_text) if month_text.isdecimal() else months.get(_key(month_text), 0)
    day = int(groups["day"])
    if "year" not in groups:
        return _next_occurrence(month, day, today)
    year = int(groups["year"])
    return _valid_date(year + today.year // 100 * 100 if year < 100 else year, month, day)


def _weekday_date(groups: Mapping[str, str], today: datetime.date, rules: DateRules) -> datetime.date | None:
    """The day a weekday names: "this" (or none) is the first from today on, "next" is next week's."""
    target = rules.weekdays.get(_key(groups["weekday"]))
    if target is None:
        return None
    if rules.weekday_modifiers.get(_key(groups.get("which", ""))) == "next":
        return today + datetime.timedelta(days=7 - today.weekday() + target)
    return today + datetime.timedelta(days=(target - today.weekday()) % 7)


def _shifted_date(groups: Mapping[str, str], today: datetime.date, rules: DateRules) -> datetime.date | None:
    unit = rules.relative_units.get(_key(groups["unit"]))
    if unit is None:
        return None
    amount = int(groups.get("amount", 1))
    days, months = unit[0] * amount, unit[1] * amount
    year, month_index = divmod(today.month - 1 + months, 12)
    year += today.year
    moved = _valid_date(year, month_index + 1, min(today.day, calendar.monthrange(year, month_index + 1)[1]))
    return moved + datetime.timedelta(days=days) if moved else None


def _date_of(match: re.Match[str], today: datetime.date, rules: DateRules) -> datetime.date | None:
    groups = {name: value for name, value in match.groupdict().items() if value is not None}
    try:
        if "relative_day" in groups:
            offset = rules.relative_days.get(_key(groups["relative_day"]))
            return None if offset is None else today + datetime.timedelta(days=offset)
        if "weekday" in groups:
            return _weekday_date(groups, today, rules)
        if "unit" in groups:
            return _shifted_date(groups, today, rules)
        return _calendar_date(groups, today, rules.months)
    except (ValueError, OverflowError):
        return None


def _dates_in(text: str, today: datetime.date, rules: DateRules) -> tuple[datetime.date | None, list[Span]]:
    """The earliest date mentioned in `text`, and the spans of every date mentioned."""
    found = []
    for pattern in rules.patterns:
        for match in pattern.finditer(text):
            value = _date_of(match, today, rules)
            if value is not None:
                found.append((match.start(), -match.end(), value))
    spans = [(start, -negative_end) for start, negative_end, _ in found]
    return (min(found)[2] if found else None), spans


# --------------------------------------------------------------------------------------------------
# Themes, ages, party types, agents


def _theme_name(words: Sequence[str], rules: ThemeRules) -> str:
    phrase = " ".join(words[: rules.max_words])[: rules.max_chars].strip()
    return rules.canonical.get(_key(phrase), phrase)


def _theme_phrase(match: re.Match[str], before_marker: bool, rules: ThemeRules) -> tuple[int, int, str] | None:
    """The words next to the marker, up to the first stop word: "a fun superhero theme" -> superhero."""
    offset = match.start("theme")
    words = [
        (offset + word.start(), offset + word.end(), word.group()) for word in _WORD.finditer(match.group("theme"))
    ]
    kept = []
    for word in reversed(words) if before_marker else words:
        if word[2] in rules.stop_words or rules.stop_word_pattern.fullmatch(word[2]) or len(kept) == rules.max_words:
            break
        kept.append(word)
    if not kept:
        return None
    kept.sort()
    return kept[0][0], kept[-1][1], _theme_name([word for _, _, word in kept], rules)


def _themes_in(text: str, rules: ThemeRules) -> tuple[str, ...]:
    """Vocabulary themes anywhere, plus phrases next to "theme" that no vocabulary entry covers."""
    hits = [
        (match.start(), match.end(), rules.canonical.get(_key(match.group()), match.group()))
        for match in rules.vocabulary.finditer(text)
    ]
    covered = [(start, end) for start, end, _ in hits]
    for pattern, before_marker in rules.phrase_patterns:
        for match in pattern.finditer(text):
            hit = _theme_phrase(match, before_marker, rules) if match.group("theme") else None
            if hit and not any(start < hit[1] and hit[0] < end for start, end in covered):
                hits.append(hit)
    return tuple(dict.fromkeys(theme for _, _, theme in sorted(hits)))


def _age_group_in(text: str, rules: AgeRules) -> str | None:
    explicit = _labels_in(text, rules.explicit)
    if explicit:
        return explicit[0]
    ages = sorted(
        (match.start(), int(match.group("age"))) for pattern in rules.age_patterns for match in pattern.finditer(text)
    )
    band = rules.band_for(ages[0][1]) if ages else None
    return band or _one_label(_labels_in(text, rules.keywords), rules.mixed)


def _best_party_type(text: str, party_types: Sequence[PartyTypeRule]) -> str | None:
    """The type signalled most often; on a tie, the one listed first in the rules."""
    scores = [
        (sum(1 for _ in rule.pattern.finditer(text)), -index, rule.name) for index, rule in enumerate(party_types)
    ]
    score, _, name = max(scores)
    return name if score else None


def _agent_plan(agents: Sequence[AgentRule]) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The agents in run order, and each one's dependencies among them."""
    names = [agent.name for agent in agents]
    graph = {agent.name: tuple(need for need in agent.depends_on if need in names) for agent in agents}
    order = tuple(topological_order(graph))
    return order, {name: graph[name] for name in order}


class _CityIndex:
    """The known cities, looked up by slug, name or alias."""

    def __init__(self, cities: Iterable[CityRef], extra_aliases: Mapping[str, tuple[str, ...]]) -> None:
        self._slugs: dict[str, str] = {}
        spellings = []
        for city in cities:
            for spelling in (city.slug, city.name, *city.aliases, *extra_aliases.get(city.slug, ())):
                if isinstance(spelling, str) and _key(spelling):
                    self._slugs.setdefault(_key(spelling), city.slug)
                    spellings.append(spelling)
        self._pattern = re.compile(_alternation(spellings, bounded=True), re.IGNORECASE) if spellings else None

    def lookup(self, value: Any) -> str | None:
        """The slug a structured city value names."""
        return self._slugs.get(_key(value)) if isinstance(value, str) else None

    def find(self, text: str) -> str | None:
        """The slug of the first known city mentioned in `text`."""
        match = self._pattern.search(text) if self._pattern else None
        return self._slugs.get(_key(match.group())) if match else None


# --------------------------------------------------------------------------------------------------
# Analysis


class _Analysis:
    """One request on its way to a Brief; collects a note for every default, fallback and correction."""

    def __init__(
        self,
        rules: AnalyzerRules,
        cities: _CityIndex,
        classifier: Classifier | None,
        today: datetime.date,
        text: str,
        fields: Mapping[str, Any],
    ) -> None:
        self.rules = rules
        self.cities = cities
        self.classifier = classifier
        self.today = today
        self.fields = fields
        self.notes: list[str] = []
        self.text = self._sanitised(text)
        self.plain = self.text.lower()
        self.numeric = self.rules.numbers.to_digits(self.plain)
        self.text_date, date_spans = _dates_in(self.numeric, today, self.rules.dates)
        self.undated = _masked(self.numeric, date_spans)
        self.text_budgets = _values_in(
            self.undated,
            self.rules.budget_patterns,
            functools.partial(_dollars_matched, multipliers=self.rules.budget_multipliers),
        )
        self.counting_text = _masked(self.undated, (span for _, span in self.text_budgets))

    def brief(self) -> Brief:
        self._note_unknown_fields()
        party_type = self._party_type()
        values = {
            "party_type": party_type,
            "guest_count": self._guest_count(party_type),
            "date": self._date(),
            "city": self._city(),
            "budget": self._budget(),
            "dietary_needs": self._dietary_needs(),
            "theme_preferences": self._themes(),
            "age_group": self._age_group(party_type),
            "setting": self._setting(),
            "classified": party_type != self.rules.fallback_party_type,
        }
        agents, graph = self._agents()
        return Brief(**values, notes=tuple(self.notes), agents=agents, graph=graph)

    def _sanitised(self, raw: str) -> str:
        text = _clean_text(raw)
        limit = self.rules.max_text_length
        if len(text) > limit:
            self.notes.append(f"The request was longer than {limit} characters; only the first {limit} were read.")
            text = _truncated(text, limit)
        return text

    def _note_unknown_fields(self) -> None:
        unknown = [_shown(name) for name in self.fields if name not in STRUCTURED_FIELDS]
        if unknown:
            self.notes.append(f"Ignored unknown fields: {', '.join(unknown)}.")

    def _structured(self, name: str, parse: Callable[[Any], Any]) -> Any:
        """The usable structured value of field `name`, or None (with a note when one was unusable)."""
        value = self.fields.get(name)
        if value is None:
            return None
        parsed = parse(value)
        if parsed is None:
            self.notes.append(f"Ignored the {name.replace('_', ' ')} field: {_shown(value)} is not usable.")
        return parsed

    def _party_type(self) -> str:
        known = (*self.rules.party_type_names, self.rules.fallback_party_type)
        party_type = (
            self._structured("party_type", _choice_of(known))
            or self._predicted_party_type()
            or _best_party_type(self.numeric, self.rules.party_types)
        )
        if party_type is None:
            party_type = self.rules.fallback_party_type
            self.notes.append(f"Could not tell what kind of party this is; treated it as a {party_type} party.")
        return party_type

    def _predicted_party_type(self) -> str | None:
        if self.classifier is None or not self.text:
            return None
        try:
            prediction = self.classifier(self.text)
        except Exception:
            logger.exception("The party type classifier failed; using the keyword rules instead")
            self.notes.append("The party type classifier failed; the keyword rules were used instead.")
            return None
        if prediction is None:
            return None
        parts = _prediction(prediction)
        if parts is None or parts[0] not in (*self.rules.party_type_names, self.rules.fallback_party_type):
            self.notes.append(f"Ignored the party type classifier's answer {_shown(prediction)}.")
            return None
        label, confidence = parts
        return (
            label if confidence >= self.rules.classifier_threshold and label != self.rules.fallback_party_type else None
        )

    def _guest_count(self, party_type: str) -> int:
        count = self._structured("guest_count", _whole_number)
        if count is None:
            found = _values_in(self.counting_text, self.rules.guest_count_patterns, _head_count)
            count = max((value for value, _ in found), default=None)
        if count is None:
            default = self.rules.party_type_defaults(party_type)[0]
            self.notes.append(f"No guest count given; assumed {default}.")
            return default
        low, high = self.rules.guest_count_range
        clamped = min(max(count, low), high)
        if clamped != count:
            self.notes.append(f"Guest count {count} is outside {low} to {high}; used {clamped}.")
        return clamped

    def _date(self) -> datetime.date | None:
        date = self._structured("date", _date_value) or self.text_date
        if date is None:
            self.notes.append("No date given; date left open.")
        elif date < self.today:
            self.notes.append(f"Date {date.isoformat()} is in the past; ignored.")
            return None
        return date

    def _city(self) -> str | None:
        city = self._structured("city", self.cities.lookup) or self.cities.find(self.plain)
        if city is None:
            self.notes.append("No supported city found; city left open.")
        return city

    def _budget(self) -> int | None:
        budget = self._structured("budget", _dollar_amount)
        amounts = [budget] if budget is not None else [value for value, _ in self.text_budgets]
        if not amounts:
            self.notes.append("No budget given; budget left open.")
            return None
        low, high = self.rules.budget_range
        fitting = [amount for amount in amounts if low <= amount <= high]
        if fitting:
            return max(fitting)
        self.notes.append(f"Budget ${max(amounts):,} is outside ${low:,} to ${high:,}; ignored.")
        return None

    def _dietary_needs(self) -> tuple[str, ...]:
        needs = self._structured("dietary_needs", self._listed_dietary_needs)
        return tuple(sorted(set(needs if needs is not None else _labels_in(self.plain, self.rules.dietary))))

    def _listed_dietary_needs(self, value: Any) -> list[str] | None:
        entries = _entries(value)
        if entries is None:
            return None
        needs, unknown = [], []
        for entry in entries:
            found = self._diets_named(entry)
            needs.extend(found)
            if not found:
                unknown.append(_shown(entry))
        if unknown:
            self.notes.append(f"Ignored unknown dietary needs: {', '.join(unknown)}.")
        return needs

    def _diets_named(self, entry: Any) -> list[str]:
        """The diets a structured entry names: an option ("gluten_free") or words ("Gluten-free")."""
        if not isinstance(entry, str):
            return []
        option = _choice_of(self.rules.dietary_options)(entry)
        return [option] if option else _labels_in(_clean_text(entry).lower(), self.rules.dietary)

    def _themes(self) -> tuple[str, ...]:
        themes = self._structured("theme_preferences", self._listed_themes)
        return themes if themes is not None else _themes_in(self.plain, self.rules.themes)

    def _listed_themes(self, value: Any) -> tuple[str, ...] | None:
        entries = _entries(value)
        if entries is None:
            return None
        themes, unusable = [], []
        for entry in entries:
            theme = (
                _theme_name(_WORD.findall(_clean_text(entry).lower()), self.rules.themes)
                if isinstance(entry, str)
                else ""
            )
            if theme:
                themes.append(theme)
            else:
                unusable.append(_shown(entry))
        if unusable:
            self.notes.append(f"Ignored unusable theme preferences: {', '.join(unusable)}.")
        return tuple(dict.fromkeys(themes))

    def _age_group(self, party_type: str) -> str:
        age_group = self._structured("age_group", _choice_of(self.rules.ages.values))
        age_group = age_group or _age_group_in(self.undated, self.rules.ages)
        if age_group is None:
            age_group = self.rules.party_type_defaults(party_type)[1]
            self.notes.append(f"No age group mentioned; assumed {age_group}.")
        return age_group

    def _setting(self) -> str:
        setting = self._structured("setting", _choice_of(self.rules.setting_values))
        setting = setting or _one_label(_labels_in(self.plain, self.rules.settings), self.rules.mixed_setting)
        if setting is None:
            setting = self.rules.default_setting
            self.notes.append(f"No indoor or outdoor preference given; assumed {setting}.")
        return setting

    def _agents(self) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
        skipped: list[str] = []
        for rule in self.rules.skip_rules:
            if rule.agent not in skipped and rule.pattern.search(self.plain):
                skipped.append(rule.agent)
                self.notes.append(rule.note)
        return _agent_plan([agent for agent in self.rules.agents if agent.name not in skipped])


class InputAnalyzer:
    """Turns a party request (free text and/or structured fields) into a Brief.

    `classifier` is an optional model hook: given the cleaned request text it returns
    (party_type, confidence) or None; a known type at or above the rules' confidence threshold
    replaces the keyword rules' answer. Its failures are logged and noted, never raised.
    """

    def __init__(
        self,
        *,
        rules: AnalyzerRules | None = None,
        cities: Iterable[CityRef] = (),
        today: datetime.date | None = None,
        classifier: Classifier | None = None,
    ) -> None:
        self.rules = rules if rules is not None else load_rules()
        self._cities = _CityIndex(cities, self.rules.city_aliases)
        self._today = today
        self._classifier = classifier
        agents, graph = _agent_plan(self.rules.agents)
        self._fallback = Brief(
            party_type=self.rules.fallback_party_type,
            guest_count=self.rules.default_guest_count,
            date=None,
            city=None,
            budget=None,
            dietary_needs=(),
            theme_preferences=(),
            age_group=self.rules.default_age_group,
            setting=self.rules.default_setting,
            classified=False,
            notes=(FALLBACK_NOTE,),
            agents=agents,
            graph=graph,
        )

    def analyze(self, *, text: str = "", fields: Mapping[str, Any] | None = None) -> Brief:
        """Analyse a request. Structured `fields` win over the text; unusable values are noted and skipped.

        Raises TypeError only for a non-str `text` or non-mapping `fields`; anything going wrong
        inside the analysis yields a safe "general" brief noting the failure.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        if fields is not None and not isinstance(fields, Mapping):
            raise TypeError(f"fields must be a mapping, not {type(fields).__name__}")
        try:
            today = self._today or datetime.date.today()
            return _Analysis(self.rules, self._cities, self._classifier, today, text, fields or {}).brief()
        except Exception:
            logger.exception("Could not analyse a party request; using safe defaults")
            return dataclasses.replace(self._fallback, graph=dict(self._fallback.graph))

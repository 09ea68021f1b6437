"""Loading and validating the rules file (agents/rules/analyzer.yaml unless another is given)."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ..graph import topological_order
from .rules import (
    AgentRule,
    AgeRules,
    AnalyzerRules,
    BudgetRules,
    CityRules,
    DateRules,
    GuestRules,
    HolidayRule,
    LabelledPattern,
    PartyTypeRule,
    SkipRule,
    TextRules,
    ThemeRules,
)
from .text import alternation, key

DEFAULT_RULES_PATH = Path(__file__).resolve().parent.parent / "rules" / "analyzer.yaml"
_FRAGMENT = re.compile(r"\{\{\s*(\w+)\s*\}\}")


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

    def read(self, node: Mapping[str, Any], name: str, kind: type, where: str, default: Any = _REQUIRED) -> Any:
        """`node[name]`, checked to be of `kind`."""
        location = f"'{where}.{name}'" if where else f"'{name}'"
        if name not in node:
            if default is _REQUIRED:
                raise self.error(location, "is missing")
            return default
        value = node[name]
        if not _is_kind(value, kind):
            raise self.error(location, f"must be {_KIND_NAMES[kind]}")
        return value

    def texts(self, node: Mapping[str, Any], name: str, where: str, default: Any = _REQUIRED) -> list[str]:
        """A list of non-empty texts at `node[name]`."""
        return self._only_texts(self.read(node, name, list, where, default), f"{where}.{name}")

    def texts_at(self, path: str, default: Any = _REQUIRED) -> list[str]:
        """A list of non-empty texts at a dotted path."""
        return self._only_texts(self.get(path, list, default), path)

    def _only_texts(self, values: list[Any], where: str) -> list[str]:
        if not all(_is_kind(value, str) for value in values):
            raise self.error(f"'{where}'", "must list only non-empty texts")
        return [str(value) for value in values]

    def table(self, path: str, kind: type, default: Any = _REQUIRED) -> dict[str, Any]:
        """A mapping from texts to values of `kind`; it may be empty only when it has a default."""
        table = self.get(path, dict, default)
        for name, value in table.items():
            if not _is_kind(name, str) or not _is_kind(value, kind):
                raise self.error(f"'{path}.{name}'", f"must be {_KIND_NAMES[kind]}")
        if not table and default is _REQUIRED:
            raise self.error(f"'{path}'", "must not be empty")
        return table

    def number_range(self, path: str) -> tuple[int, int]:
        low, high = self.get(f"{path}.min", int), self.get(f"{path}.max", int)
        if not 0 <= low <= high:
            raise self.error(f"'{path}'", "must have 0 <= min <= max")
        return low, high

    def positive(self, path: str) -> int:
        value = self.get(path, int)
        if value < 1:
            raise self.error(f"'{path}'", "must be at least 1")
        return value

    def choice(self, path: str, allowed: Sequence[str]) -> str:
        value = self.get(path, str)
        if value not in allowed:
            raise self.error(f"'{path}'", f"must be one of {', '.join(allowed)}")
        return value

    def add_fragment(self, name: str, value: Any) -> None:
        """Declare {{name}}: a regular expression, or a list of phrases matched as alternatives."""
        where = f"'fragments.{name}'"
        if isinstance(value, list) and value and all(_is_kind(item, str) for item in value):
            body = alternation(value, bounded=False)
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

    def pattern(self, path: str, groups: Sequence[str] = ()) -> re.Pattern[str]:
        return self.compile(self.get(path, str), f"'{path}'", groups)

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
        parts = [alternation(keywords, bounded=True)] if keywords else []
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
    text = _read_text(reader)
    budget_multipliers = reader.table("budget.multipliers", int)
    reader.fragments["budget_multiplier"] = alternation(budget_multipliers, bounded=False)
    date_words = _read_date_words(reader)
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
        max_text_length=reader.positive("limits.max_text_length"),
        guest_count_range=guest_count_range,
        budget_range=reader.number_range("limits.budget"),
        fallback_party_type=defaults["party_type"],
        default_guest_count=defaults["guest_count"],
        default_age_group=defaults["age_group"],
        default_setting=defaults["setting"],
        classifier_threshold=_threshold(reader),
        text=text,
        party_types=_read_party_types(reader, defaults, ages.values),
        guests=GuestRules(
            patterns=reader.patterns("guest_count.patterns", ("count",)),
            total_patterns=reader.patterns("guest_count.total_patterns", ("count",), []),
            noun_multipliers=_keyed(reader.table("guest_count.noun_multipliers", int, {})),
        ),
        budget=BudgetRules(
            patterns=reader.patterns("budget.patterns", ("amount",)),
            multipliers=_keyed(budget_multipliers),
            range_pattern=reader.pattern("budget.range_pattern", ("amount",)),
            per_head_pattern=reader.pattern("budget.per_head_pattern"),
        ),
        dates=_read_dates(reader, date_words),
        dietary=reader.labelled("dietary"),
        themes=_read_themes(reader),
        ages=ages,
        settings=settings,
        mixed_setting=mixed_setting,
        cities=_read_cities(reader),
        agents=agents,
        skip_rules=_read_skip_rules(reader, agents),
    )


def _threshold(reader: _RuleReader) -> float:
    threshold = reader.get("classifier.confidence_threshold", float)
    if not 0 <= threshold <= 1:
        raise reader.error("'classifier.confidence_threshold'", "must lie between 0 and 1")
    return float(threshold)


def _keyed(table: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType({key(name): value for name, value in table.items()})


def _read_text(reader: _RuleReader) -> TextRules:
    replacements = []
    for source, replacement in reader.table("text.replacements", str, {}).items():
        where = f"'text.replacements.{source}'"
        pattern = reader.compile(rf"(?<!\w)(?:{source})(?!\w)", where)
        try:
            pattern.sub(replacement, "")
            re.compile(source).sub(replacement, source)
        except (re.error, IndexError) as exc:
            raise reader.error(where, f"has a replacement that does not fit its pattern ({exc})") from exc
        replacements.append((pattern, replacement))
    groups = reader.table("numbers.groups", int)
    articles = reader.texts_at("numbers.articles")
    words = alternation([*articles], bounded=False)
    pattern = rf"(?<![\w'])(?:(?P<count>\d{{1,3}}|{words})\s+)?(?P<group>{alternation(groups, bounded=False)})(?![\w'])"
    return TextRules(
        replacements=tuple(replacements),
        number_groups=reader.compile(pattern, "'numbers.groups'", ("count", "group")),
        group_values=MappingProxyType({name.lower(): value for name, value in groups.items()}),
        articles=frozenset(article.lower() for article in articles),
    )


def _read_calendar_names(reader: _RuleReader, path: str, count: int, first: int) -> dict[str, int]:
    """Names in calendar order, each with its abbreviations: spelling -> number."""
    table = reader.get(path, dict)
    if len(table) != count:
        raise reader.error(f"'{path}'", f"must list exactly {count} entries in calendar order")
    numbers: dict[str, int] = {}
    for index, name in enumerate(table):
        for spelling in [name, *reader.texts(table, name, path)]:
            numbers[spelling] = first + index
    return numbers


def _read_date_words(reader: _RuleReader) -> dict[str, Any]:
    """The month and weekday words, also declared as the fragments {{month}} and {{weekday}}."""
    months = _read_calendar_names(reader, "dates.months", 12, 1)
    weekdays = _read_calendar_names(reader, "dates.weekdays", 7, 0)
    modifiers = reader.table("dates.weekday_modifiers", str)
    if unknown := sorted(set(modifiers.values()) - {"this", "next"}):
        raise reader.error("'dates.weekday_modifiers'", f"must map to this or next, not {', '.join(unknown)}")
    reader.fragments["month"] = alternation(months, bounded=False)
    reader.fragments["weekday"] = alternation(weekdays, bounded=False)
    full_names = list(reader.get("dates.weekdays", dict))
    which, spellings = alternation(modifiers, bounded=False), alternation(weekdays, bounded=False)
    weekday = (
        rf"(?<![\w'])(?:(?P<which>{which})\s+(?P<weekday>{spellings})"
        rf"|(?P<name>{alternation(full_names, bounded=False)}))(?![\w'])"
    )
    return {
        "months": reader.compile(rf"(?<![\w']){reader.fragments['month']}(?![\w'])", "'dates.months'"),
        "weekday": reader.compile(weekday, "'dates.weekdays'"),
        "weekdays": _keyed(weekdays),
        "weekday_modifiers": _keyed(modifiers),
    }


def _read_dates(reader: _RuleReader, words: Mapping[str, Any]) -> DateRules:
    order = reader.get("dates.date_order", str)
    if order not in ("MDY", "DMY", "YMD"):
        raise reader.error("'dates.date_order'", "must be MDY, DMY or YMD")
    offsets = reader.table("dates.day_offsets", int, {})
    return DateRules(
        date_order=order,
        day_offsets=reader.compile(alternation(offsets, bounded=True) if offsets else "(?!x)x", "'dates.day_offsets'"),
        offsets=_keyed(offsets),
        horizon_days=reader.positive("limits.date_horizon_days"),
        relative=reader.pattern("dates.relative"),
        indefinite_weekday=reader.pattern("dates.indefinite_weekday"),
        vague=reader.patterns("dates.vague", default=[]),
        holidays=_read_holidays(reader),
        **words,
    )


def _read_holidays(reader: _RuleReader) -> tuple[HolidayRule, ...]:
    holidays = []
    for name, node in reader.table("dates.holidays", dict, {}).items():
        where = f"dates.holidays.{name}"
        pattern = reader.matcher(node, where)
        if "easter" in node:
            holidays.append(HolidayRule(name, pattern, easter=reader.read(node, "easter", int, where)))
            continue
        month = reader.read(node, "month", int, where)
        day = reader.read(node, "day", int, where, 0)
        weekday = reader.read(node, "weekday", int, where, 0)
        nth = reader.read(node, "nth", int, where, 0)
        if not 1 <= month <= 12 or not (1 <= day <= 31 or (0 <= weekday <= 6 and nth in (-1, 1, 2, 3, 4))):
            raise reader.error(f"'{where}'", "must give a month and a day, or a month, a weekday (0-6) and nth")
        holidays.append(HolidayRule(name, pattern, month=month, day=day, weekday=weekday, nth=nth))
    return tuple(holidays)


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
        examples = tuple(reader.texts(node, "examples", where, []))
        rules.append(PartyTypeRule(str(name), reader.matcher(node, where), guest_count, age_group, examples))
    return tuple(rules)


def _read_themes(reader: _RuleReader) -> ThemeRules:
    vocabulary = reader.texts_at("themes.vocabulary")
    aliases = reader.table("themes.aliases", str, {})
    if unknown := sorted(set(aliases.values()) - set(vocabulary)):
        raise reader.error("'themes.aliases'", f"must point at vocabulary entries, not {', '.join(unknown)}")
    canonical = {key(theme): theme.lower() for theme in vocabulary} | {
        key(alias): theme.lower() for alias, theme in aliases.items()
    }
    before = reader.patterns("themes.phrase_before_marker", ("theme",), [])
    after = reader.patterns("themes.phrase_after_marker", ("theme",), [])
    return ThemeRules(
        vocabulary=reader.compile(alternation([*vocabulary, *aliases], bounded=True), "'themes.vocabulary'"),
        canonical=MappingProxyType(canonical),
        phrase_patterns=tuple((pattern, True) for pattern in before) + tuple((pattern, False) for pattern in after),
        stop_words=frozenset(word.lower() for word in reader.texts_at("themes.stop_words", [])),
        stop_word_pattern=reader.pattern("themes.stop_word_pattern"),
        max_words=reader.positive("themes.max_words"),
        max_chars=reader.positive("themes.max_chars"),
        needs_context=frozenset(key(word) for word in reader.texts_at("themes.needs_context", [])),
        context_after=reader.pattern("themes.context_after"),
        context_before=reader.pattern("themes.context_before"),
        negation=reader.pattern("themes.negation"),
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
        birthday_age_patterns=reader.patterns("age_groups.birthday_age_patterns", ("age",), []),
        keywords=reader.labelled("age_groups.keywords", values),
        mixed=reader.choice("age_groups.mixed", values),
    )


def _read_cities(reader: _RuleReader) -> CityRules:
    table = reader.get("cities.aliases", dict, {})
    return CityRules(
        aliases=MappingProxyType({str(slug): tuple(reader.texts(table, slug, "cities.aliases")) for slug in table}),
        place_patterns=reader.patterns("cities.place_patterns", ("place",), []),
        elsewhere=reader.pattern("cities.elsewhere"),
        not_places=frozenset(key(word) for word in reader.texts_at("cities.not_places", [])),
    )


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

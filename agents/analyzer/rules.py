"""The analyzer's rules once parsed: plain frozen values that the extractors read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


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
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextRules:
    """How request text is rewritten before it is read: abbreviations, and number groups text2num lacks."""

    replacements: tuple[tuple[re.Pattern[str], str], ...]
    number_groups: re.Pattern[str]
    group_values: Mapping[str, int]
    articles: frozenset[str]


@dataclass(frozen=True)
class GuestRules:
    """Head-count patterns, stated totals, and nouns that stand for several guests ("couples")."""

    patterns: tuple[re.Pattern[str], ...]
    total_patterns: tuple[re.Pattern[str], ...]
    noun_multipliers: Mapping[str, int]


@dataclass(frozen=True)
class BudgetRules:
    """Where amounts of money are, what their multipliers mean, and how ranges and per-guest prices read."""

    patterns: tuple[re.Pattern[str], ...]
    multipliers: Mapping[str, int]
    range_pattern: re.Pattern[str]
    per_head_pattern: re.Pattern[str]


@dataclass(frozen=True)
class HolidayRule:
    """A holiday that dates a party: a fixed day, the nth weekday of a month, or an offset from Easter."""

    name: str
    pattern: re.Pattern[str]
    month: int = 0
    day: int = 0
    weekday: int = 0
    nth: int = 0
    easter: int | None = None


@dataclass(frozen=True)
class DateRules:
    """Which of dateparser's finds to trust, the weekday words, vague dates and holidays."""

    date_order: str
    horizon_days: int
    months: re.Pattern[str]
    weekday: re.Pattern[str]
    weekdays: Mapping[str, int]
    weekday_modifiers: Mapping[str, str]
    day_offsets: re.Pattern[str]
    offsets: Mapping[str, int]
    relative: re.Pattern[str]
    indefinite_weekday: re.Pattern[str]
    vague: tuple[re.Pattern[str], ...]
    holidays: tuple[HolidayRule, ...]


@dataclass(frozen=True)
class ThemeRules:
    """Theme vocabulary (with other spellings), the phrases around "theme", context and negation."""

    vocabulary: re.Pattern[str]
    canonical: Mapping[str, str]
    phrase_patterns: tuple[tuple[re.Pattern[str], bool], ...]
    stop_words: frozenset[str]
    stop_word_pattern: re.Pattern[str]
    max_words: int
    max_chars: int
    needs_context: frozenset[str]
    context_after: re.Pattern[str]
    context_before: re.Pattern[str]
    negation: re.Pattern[str]


@dataclass(frozen=True)
class AgeRules:
    """How the age group is read: explicit phrases, then an age, then words about the guests."""

    values: tuple[str, ...]
    bands: tuple[tuple[str, int, int], ...]
    explicit: tuple[LabelledPattern, ...]
    age_patterns: tuple[re.Pattern[str], ...]
    birthday_age_patterns: tuple[re.Pattern[str], ...]
    keywords: tuple[LabelledPattern, ...]
    mixed: str

    def band_for(self, age: int) -> str | None:
        """The age group an age in years falls in, if any."""
        return next((label for label, low, high in self.bands if low <= age <= high), None)


@dataclass(frozen=True)
class CityRules:
    """Extra names for catalog cities, and how a place the catalog lacks is spotted."""

    aliases: Mapping[str, tuple[str, ...]]
    place_patterns: tuple[re.Pattern[str], ...]
    elsewhere: re.Pattern[str]
    not_places: frozenset[str]


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
    text: TextRules
    party_types: tuple[PartyTypeRule, ...]
    guests: GuestRules
    budget: BudgetRules
    dates: DateRules
    dietary: tuple[LabelledPattern, ...]
    themes: ThemeRules
    ages: AgeRules
    settings: tuple[LabelledPattern, ...]
    mixed_setting: str
    cities: CityRules
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

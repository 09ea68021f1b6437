"""InputAnalyzer: a request (free text and/or structured fields) in, a validated Brief out.

The stages run in this order, each on the text the previous ones have not claimed: normalisation,
money, dates, head counts, then party type, city, diets, themes, age group, setting and skips.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from ..graph import agent_plan
from .age import age_group_in
from .brief import Brief, BriefOutOfRange, CityRef
from .budget import Amount, amounts_in
from .city import CityIndex, unknown_place_in
from .dates import date_in
from .diets import diets_in, diets_named, unsupported_note
from .guests import guest_count_in
from .loading import load_rules
from .party_type import Classifier, party_type_in, predicted_party_type
from .rules import AnalyzerRules
from .setting import setting_in
from .skips import skips_in
from .text import WORD, Request, clean_text, masked, shown, truncated
from .themes import theme_name, themes_in
from .values import choice_of, date_value, dollar_amount, entries, whole_number

logger = logging.getLogger("agents.analyzer")

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


@dataclasses.dataclass(frozen=True)
class CatalogLimits:
    """What the catalog can honour, so that the brief's notes can say what it cannot.

    `dietary_by_city` maps a city's slug to the diets offered there; `dietary_options` are those offered
    anywhere (used when the city is open or not in the mapping). None means every diet the rules know
    is offered; `max_guests` None means no limit.
    """

    dietary_options: Collection[str] | None = None
    max_guests: int | None = None
    dietary_by_city: Mapping[str, Collection[str]] | None = None

    def diets_offered(self, city: str | None) -> Collection[str] | None:
        """The diets the catalog offers in `city` (anywhere when the city is open or unlisted)."""
        if city is not None and self.dietary_by_city is not None and city in self.dietary_by_city:
            return self.dietary_by_city[city]
        return self.dietary_options


class _Analysis:
    """One request on its way to a Brief; collects a note for every default, fallback and correction."""

    def __init__(
        self,
        rules: AnalyzerRules,
        cities: CityIndex,
        catalog: CatalogLimits,
        classifier: Classifier | None,
        today: datetime.date,
        text: str,
        fields: Mapping[str, Any],
    ) -> None:
        self.rules = rules
        self.cities = cities
        self.catalog = catalog
        self.classifier = classifier
        self.today = today
        self.fields = fields
        self.notes: list[str] = []
        self.city: str | None = None
        self.clean = self._sanitised(text)
        self.request = Request.of(self.clean, rules.text)
        plain, cased = self.request.plain, self.request.cased
        self.amounts = amounts_in(plain, rules.budget)
        money = [amount.span for amount in self.amounts]
        self.dates = date_in(masked(cased, money), masked(plain, money), today, rules.dates)
        self.undated = masked(plain, self.dates.spans)
        self.guests = guest_count_in(masked(self.undated, money), rules.guests)

    def brief(self) -> Brief:
        self._note_unknown_fields()
        party_type = self._party_type()
        guest_count, given = self._guest_count(party_type)
        budget, per_head = self._budget(guest_count)
        values = {
            "party_type": party_type,
            "guest_count": guest_count,
            "date": self._date(),
            "city": self._city(),
            "budget": budget,
            "dietary_needs": self._dietary_needs(),
            "theme_preferences": self._themes(),
            "age_group": self._age_group(party_type),
            "setting": self._setting(),
            "classified": party_type != self.rules.fallback_party_type,
            "guest_count_given": given,
            "budget_per_head": per_head,
        }
        agents, graph = self._agents()
        return Brief(**values, notes=tuple(self.notes), agents=agents, graph=graph)

    def _sanitised(self, raw: str) -> str:
        text = clean_text(raw)
        limit = self.rules.max_text_length
        if len(text) > limit:
            self.notes.append(f"The request was longer than {limit} characters; only the first {limit} were read.")
            text = truncated(text, limit)
        return text

    def _note_unknown_fields(self) -> None:
        unknown = [shown(name) for name in self.fields if name not in STRUCTURED_FIELDS]
        if unknown:
            self.notes.append(f"Ignored unknown fields: {', '.join(unknown)}.")

    def _structured(self, name: str, parse: Callable[[Any], Any]) -> Any:
        """The usable structured value of field `name`, or None (with a note when one was unusable)."""
        value = self.fields.get(name)
        if value is None:
            return None
        parsed = parse(value)
        if parsed is None:
            self.notes.append(f"Ignored the {name.replace('_', ' ')} field: {shown(value)} is not usable.")
        return parsed

    def _party_type(self) -> str:
        known = (*self.rules.party_type_names, self.rules.fallback_party_type)
        party_type = self._structured("party_type", choice_of(known))
        if party_type is None and self.classifier is not None and self.clean:
            party_type = predicted_party_type(self.classifier, self.clean, self.rules, self.notes)
        # Where the party is held ("in the office conference room") does not say what kind it is.
        places = [match.span() for rule in self.rules.skip_rules for match in rule.pattern.finditer(self.request.plain)]
        party_type = party_type or party_type_in(masked(self.request.plain, places), self.rules.party_types)
        if party_type is None:
            party_type = self.rules.fallback_party_type
            self.notes.append(f"Could not tell what kind of party this is; treated it as a {party_type} party.")
        return party_type

    def _guest_count(self, party_type: str) -> tuple[int, bool]:
        count = self._structured("guest_count", whole_number)
        if count is None:
            count = self.guests.count
        if count is None:
            default = self.rules.party_type_defaults(party_type)[0]
            self.notes.append(f"No guest count given; assumed {default}.")
            return default, False
        low, high = self.rules.guest_count_range
        if not low <= count <= high:
            raise BriefOutOfRange(
                "guest_count", f"A party of {count:,} guests is beyond what we can plan: {low} to {high:,} guests."
            )
        largest = self.catalog.max_guests
        if largest is not None and count > largest:
            self.notes.append(
                f"{count} guests is more than the largest venue in the catalog holds ({largest}); "
                "the plan may find no venue big enough."
            )
        return count, True

    def _budget(self, guest_count: int) -> tuple[int | None, int | None]:
        """The budget in whole dollars, and the price per guest when it was given that way."""
        budget = self._structured("budget", dollar_amount)
        if budget is not None:
            return self._within_budget_limits([budget]), None
        totals = [amount for amount in self.amounts if not amount.per_head]
        per_guest = [amount for amount in self.amounts if amount.per_head]
        if not totals and not per_guest:
            self.notes.append("No budget given; budget left open.")
            return None, None
        if totals:
            chosen = max(totals, key=lambda amount: (self._fits(amount.dollars), amount.dollars))
            budget, per_head = self._within_budget_limits([amount.dollars for amount in totals]), None
        else:
            chosen = max(per_guest, key=lambda amount: amount.dollars)
            per_head, budget = chosen.dollars, chosen.dollars * guest_count
            self.notes.append(f"Read ${per_head:,} per guest for {guest_count} guests as a budget of ${budget:,}.")
            budget = self._within_budget_limits([budget])
        self._note_amount_reading(chosen)
        return budget, per_head

    def _fits(self, dollars: int) -> bool:
        low, high = self.rules.budget_range
        return low <= dollars <= high

    def _within_budget_limits(self, amounts: list[int]) -> int:
        fitting = [amount for amount in amounts if self._fits(amount)]
        if fitting:
            return max(fitting)
        low, high = self.rules.budget_range
        raise BriefOutOfRange(
            "budget", f"A budget of ${max(amounts):,} is outside what we can plan with: ${low:,} to ${high:,}."
        )

    def _note_amount_reading(self, amount: Amount) -> None:
        if amount.low is not None:
            self.notes.append(
                f"The budget was given as a range (${amount.low:,} to ${amount.dollars:,}); "
                f"took the upper end, ${amount.dollars:,}, as the ceiling."
            )
        if amount.currency and amount.currency not in ("$", "US$", "USD"):
            self.notes.append(f"The budget was given in {amount.currency}; it was read as dollars.")

    def _date(self) -> datetime.date | None:
        date = self._structured("date", date_value)
        if date is None and self.dates.past is not None:
            date = self.dates.past
        if date is None and self.dates.holiday:
            self.notes.append(f"Read {self.dates.holiday} as the date: {self.dates.date.isoformat()}.")
        date = date or self.dates.date
        if date is None:
            if self.dates.vague:
                said = ", ".join(f"“{phrase}”" for phrase in self.dates.vague)
                self.notes.append(f"Only a vague date was given ({said}); date left open.")
            else:
                self.notes.append("No date given; date left open.")
        elif date < self.today:
            self.notes.append(f"Date {date.isoformat()} is in the past; ignored.")
            return None
        return date

    def _city(self) -> str | None:
        city = self._structured("city", self.cities.lookup)
        city = city or self.cities.find(self.request.plain, self.rules.cities.elsewhere)
        self.city = city
        if city is None:
            vocabularies = [rule.pattern for rule in self.rules.party_types] + [self.rules.themes.vocabulary]
            place = unknown_place_in(self.request.cased, self.rules.cities, vocabularies)
            if place:
                self.notes.append(f"We do not plan parties in {place} yet; city left open.")
            else:
                self.notes.append("No supported city found; city left open.")
        return city

    def _dietary_needs(self) -> tuple[str, ...]:
        needs = self._structured("dietary_needs", self._listed_dietary_needs)
        found = tuple(sorted(set(needs))) if needs is not None else diets_in(self.request.plain, self.rules.dietary)
        note = unsupported_note(found, self.catalog.diets_offered(self.city), self.cities.name_of(self.city))
        if note:
            self.notes.append(note)
        return found

    def _listed_dietary_needs(self, value: Any) -> list[str] | None:
        listed = entries(value)
        if listed is None:
            return None
        needs, unknown = [], []
        for entry in listed:
            found = diets_named(entry, self.rules.dietary)
            needs.extend(found)
            if not found:
                unknown.append(shown(entry))
        if unknown:
            self.notes.append(f"Ignored unknown dietary needs: {', '.join(unknown)}.")
        return needs

    def _themes(self) -> tuple[str, ...]:
        themes = self._structured("theme_preferences", self._listed_themes)
        return themes if themes is not None else themes_in(self.request.plain, self.rules.themes)

    def _listed_themes(self, value: Any) -> tuple[str, ...] | None:
        listed = entries(value)
        if listed is None:
            return None
        themes, unusable = [], []
        for entry in listed:
            words = WORD.findall(clean_text(entry).lower()) if isinstance(entry, str) else []
            theme = theme_name(words, self.rules.themes) if words else ""
            if theme:
                themes.append(theme)
            else:
                unusable.append(shown(entry))
        if unusable:
            self.notes.append(f"Ignored unusable theme preferences: {', '.join(unusable)}.")
        return tuple(dict.fromkeys(themes))

    def _age_group(self, party_type: str) -> str:
        age_group = self._structured("age_group", choice_of(self.rules.ages.values))
        age_group = age_group or age_group_in(self.undated, self.rules.ages, party_type)
        if age_group is None:
            age_group = self.rules.party_type_defaults(party_type)[1]
            self.notes.append(f"No age group mentioned; assumed {age_group}.")
        return age_group

    def _setting(self) -> str:
        setting = self._structured("setting", choice_of(self.rules.setting_values))
        setting = setting or setting_in(self.request.cased, self.rules.settings, self.rules.mixed_setting)
        if setting is None:
            setting = self.rules.default_setting
            self.notes.append(f"No indoor or outdoor preference given; assumed {setting}.")
        return setting

    def _agents(self) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
        skipped = skips_in(self.request.plain, self.rules.skip_rules)
        self.notes.extend(rule.note for rule in skipped)
        names = {rule.agent for rule in skipped}
        return agent_plan([agent for agent in self.rules.agents if agent.name not in names])


class InputAnalyzer:
    """Turns a party request (free text and/or structured fields) into a Brief.

    `cities` are the catalog's cities; `catalog` says what else it can honour (diets, party size),
    so that the notes name what it cannot. `classifier` is an optional model hook: given the cleaned
    request text it returns (party_type, confidence) or None; a known type at or above the rules'
    confidence threshold replaces the keyword rules' answer. Its failures are logged and noted.
    """

    def __init__(
        self,
        *,
        rules: AnalyzerRules | None = None,
        cities: Iterable[CityRef] = (),
        catalog: CatalogLimits | None = None,
        today: datetime.date | None = None,
        classifier: Classifier | None = None,
    ) -> None:
        self.rules = rules if rules is not None else load_rules()
        self._cities = CityIndex(cities, self.rules.cities.aliases)
        self._catalog = catalog or CatalogLimits()
        self._today = today
        self._classifier = classifier
        agents, graph = agent_plan(self.rules.agents)
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
            guest_count_given=False,
        )

    def analyze(self, *, text: str = "", fields: Mapping[str, Any] | None = None) -> Brief:
        """Analyse a request. Structured `fields` win over the text; unusable values are noted and skipped.

        Raises BriefOutOfRange (a ValueError) when the guest count or budget lies beyond the rules'
        hard limits, and TypeError for a non-str `text` or non-mapping `fields`. Anything else going
        wrong inside the analysis yields a safe "general" brief noting the failure.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        if fields is not None and not isinstance(fields, Mapping):
            raise TypeError(f"fields must be a mapping, not {type(fields).__name__}")
        try:
            today = self._today or datetime.date.today()
            analysis = _Analysis(self.rules, self._cities, self._catalog, self._classifier, today, text, fields or {})
            return analysis.brief()
        except BriefOutOfRange:
            raise
        except Exception:
            logger.exception("Could not analyse a party request; using safe defaults")
            return dataclasses.replace(self._fallback, graph=dict(self._fallback.graph))

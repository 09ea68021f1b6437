"""Theme preferences: vocabulary themes in context, phrases next to "theme", minus those the request
turns down ("NOT pirates anymore")."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .rules import ThemeRules
from .text import WORD, key

_CLAUSE_BREAK = re.compile(r"[.,;:!?\n]|\bbut\b")
Hit = tuple[int, int, str]


def theme_name(words: Sequence[str], rules: ThemeRules) -> str:
    """Words as a theme: at most max_words and max_chars, canonical spelling when the vocabulary has one."""
    phrase = " ".join(words[: rules.max_words])[: rules.max_chars].strip()
    return rules.canonical.get(key(phrase), phrase)


def themes_in(text: str, rules: ThemeRules) -> tuple[str, ...]:
    """Vocabulary themes and phrases next to "theme", in order, without duplicates or declined themes."""
    hits = [hit for match in rules.vocabulary.finditer(text) if (hit := _vocabulary_hit(match, text, rules))]
    covered = [(start, end) for start, end, _ in hits]
    for pattern, before_marker in rules.phrase_patterns:
        for match in pattern.finditer(text):
            hit = _phrase_hit(match, before_marker, rules) if match.group("theme") else None
            if hit and not any(start < hit[1] and hit[0] < end for start, end in covered):
                hits.append(hit)
    declined = {theme for start, _, theme in hits if _negated(text[:start], rules)}
    return tuple(dict.fromkeys(theme for _, _, theme in sorted(hits) if theme not in declined))


def _vocabulary_hit(match: re.Match[str], text: str, rules: ThemeRules) -> Hit | None:
    """A vocabulary word as a theme, unless it is one that counts only in context and has none."""
    theme = rules.canonical.get(key(match.group()), match.group())
    if key(theme) in rules.needs_context and not (
        rules.context_after.match(text, match.end()) or rules.context_before.search(text[: match.start()])
    ):
        return None
    return match.start(), match.end(), theme


def _negated(before: str, rules: ThemeRules) -> bool:
    """Whether the clause leading up to a theme turns it down."""
    clause = _CLAUSE_BREAK.split(before)[-1]
    return bool(rules.negation.search(clause))


def _phrase_hit(match: re.Match[str], before_marker: bool, rules: ThemeRules) -> Hit | None:
    """The words next to the marker, up to the first stop word: "a fun superhero theme" -> superhero."""
    offset = match.start("theme")
    words = [(offset + word.start(), offset + word.end(), word.group()) for word in WORD.finditer(match.group("theme"))]
    kept = []
    for word in reversed(words) if before_marker else words:
        if word[2] in rules.stop_words or rules.stop_word_pattern.fullmatch(word[2]) or len(kept) == rules.max_words:
            break
        kept.append(word)
    if not kept:
        return None
    kept.sort()
    return kept[0][0], kept[-1][1], theme_name([word for _, _, word in kept], rules)

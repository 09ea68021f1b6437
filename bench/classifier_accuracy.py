"""The optional learned party-type classifier against the keyword rules alone: prints one JSON object.

Needs the optional extra (pip install -r requirements-ml.txt). Two measures:
- the rules file's labelled examples, each classified by a classifier built from all the others
  (leave-one-out), and by the keyword rules;
- the party types of the held-out requests in bench/data/, by the rules alone, the classifier alone,
  and the analyzer with the classifier plugged into its hook (the classifier wins when confident).

    python -m bench.classifier_accuracy
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agents.analyzer import InputAnalyzer, load_rules  # noqa: E402
from agents.analyzer.classifier import EmbeddingClassifier, embedding_model  # noqa: E402
from agents.analyzer.party_type import party_type_in  # noqa: E402
from agents.analyzer.text import Request  # noqa: E402
from bench.catalog_facts import analyzer_options  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


def rate(hits: list[bool]) -> float:
    return round(sum(hits) / len(hits), 3) if hits else 0.0


def main() -> dict:
    rules = load_rules()
    model = embedding_model()
    labelled = [(rule.name, example) for rule in rules.party_types for example in rule.examples]

    embeddings = model.encode([text for _, text in labelled], normalize_embeddings=True)
    rules_hits, classifier_hits = [], []
    for index, (label, example) in enumerate(labelled):
        rest = [row for row in range(len(labelled)) if row != index]
        others = EmbeddingClassifier([labelled[row] for row in rest], model, embeddings[rest])
        classifier_hits.append(others(example)[0] == label)
        request = Request.of(example, rules.text)
        rules_hits.append((party_type_in(request.plain, rules.party_types) or rules.fallback_party_type) == label)

    classifier = EmbeddingClassifier(labelled, model, embeddings)
    cases = [
        json.loads(line)
        for path in sorted(DATA.glob("analyzer_heldout*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and "expect" in json.loads(line)
    ]
    heldout = {"rules": [], "classifier": [], "rules_with_classifier_hook": []}
    elapsed = 0.0
    for case in cases:
        expected, today = case["expect"]["party_type"], datetime.date.fromisoformat(case["today"])
        plain = InputAnalyzer(today=today, **analyzer_options())
        hooked = InputAnalyzer(today=today, classifier=classifier, **analyzer_options())
        heldout["rules"].append(plain.analyze(text=case["text"]).party_type == expected)
        started = time.perf_counter()
        heldout["classifier"].append(classifier(case["text"])[0] == expected)
        elapsed += time.perf_counter() - started
        heldout["rules_with_classifier_hook"].append(hooked.analyze(text=case["text"]).party_type == expected)
    result = {
        "labelled_examples": len(labelled),
        "leave_one_out": {"rules": rate(rules_hits), "classifier": rate(classifier_hits)},
        "heldout_requests": len(cases),
        "heldout_party_type": {name: rate(hits) for name, hits in heldout.items()},
        "confidence_threshold": rules.classifier_threshold,
        "classifier_ms_per_request": round(1000 * elapsed / max(len(cases), 1), 1),
    }
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()

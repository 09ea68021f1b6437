"""The shipped catalog: valid, realistic enough to plan the reference parties, and reproducible."""

import copy
import json

import pytest

from planning.catalog import build_dataset, check_dataset


@pytest.fixture(scope="module")
def shipped():
    return json.loads(check_dataset.CATALOG.read_text())


def test_the_shipped_catalog_passes_every_check(shipped, capsys):
    assert check_dataset.validate(shipped) == []
    assert check_dataset.main() == 0
    assert "0 problem(s)" in capsys.readouterr().out


def test_the_generator_reproduces_the_shipped_file(shipped):
    assert build_dataset.build() == shipped


def test_both_reference_parties_fit_their_budgets(shipped):
    for scenario in check_dataset.SCENARIOS:
        total, *_ = check_dataset.cheapest_combo(shipped, scenario)
        assert total <= scenario.limit


@pytest.mark.parametrize(
    "break_it, expected",
    [
        (lambda d: d.pop("themes"), "top-level keys"),
        (lambda d: d.update(version=2), "version must be 1"),
        (lambda d: d["venues"][0].update(setting="underwater"), "setting"),
        (lambda d: d["venues"][0].update(capacity=-1), "capacity"),
        (lambda d: d["cakes"][0].update(dietary=["carnivore"]), "dietary"),
        (lambda d: d["cakes"][0].update(bakery="Nowhere Bakery"), "bakery"),
        (lambda d: d.update(cakes=[c for c in d["cakes"] if c["city"] != "austin"]), "austin"),
        (lambda d: d["cities"].pop(0), "austin"),
    ],
)
def test_broken_catalogs_are_reported(shipped, break_it, expected):
    data = copy.deepcopy(shipped)
    break_it(data)
    problems = check_dataset.validate(data)
    assert problems and any(expected in problem for problem in problems), problems


def test_a_non_object_is_refused():
    assert check_dataset.validate([]) == ["catalog must be a JSON object"]

"""The analyzer's stages are pure functions of text and rules: no database, Redis or breakers needed."""

import pytest

from agents.analyzer import load_rules


@pytest.fixture(autouse=True)
def _clean_shared_state():
    yield


@pytest.fixture(scope="session")
def rules():
    return load_rules()

"""Themes: context for ambiguous words, and declined themes dropped."""

import pytest

from agents.analyzer.themes import themes_in


@pytest.mark.parametrize(
    ("text", "themes"),
    [
        ("space for 40 people needed", ()),
        ("a space party", ("space",)),
        ("now it's all about space", ("space",)),
        ("san diego beach, may 30", ()),
        ("beach party", ("beach",)),
        ("christmas eve dinner", ()),
        ("christmas party", ("christmas",)),
        ("casino night", ("casino",)),
        ("she wants a mermaid party. not unicorns anymore", ("mermaid",)),
        ("was going to do pirates but he's not into pirates anymore, dinosaurs now", ("dinosaur",)),
        ("no more princesses, superhero theme", ("superhero",)),
        ("not sure, maybe jazz", ("jazz",)),
        ("ugly sweaters encouraged", ("ugly sweater",)),
        ("tea party theme", ("tea party",)),
    ],
)
def test_themes_in_context_and_not_declined(rules, text, themes):
    assert themes_in(text, rules.themes) == themes

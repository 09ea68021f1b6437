"""Party type: keyword scores with the rules' order breaking ties."""

import pytest

from agents.analyzer.party_type import party_type_in


@pytest.mark.parametrize(
    ("text", "party_type"),
    [
        ("bar mitzvah for eli", "mitzvah"),
        ("her bat mitzvah", "mitzvah"),
        ("sofia's quinceañera", "quinceanera"),
        ("my sister's bachelorette", "bachelor_party"),
        ("stag do in town", "bachelor_party"),
        ("gender reveal bbq", "gender_reveal"),
        ("housewarming at the new flat", "housewarming"),
        ("first communion lunch", "baptism"),
        ("celebration of life for dad", "memorial"),
        ("going-away party for sam", "farewell"),
        ("charity gala", "fundraiser"),
        ("corporate gala", "corporate"),
        ("grad party", "graduation"),
        ("kids' birthday on the 4th of july", "birthday"),
        ("baby sprinkle for my 2nd", "baby_shower"),
        ("wedding shower for jen", "bridal_shower"),
    ],
)
def test_the_most_signalled_type_wins_and_ties_go_to_the_earlier_rule(rules, text, party_type):
    assert party_type_in(text, rules.party_types) == party_type


def test_no_signal_is_no_type(rules):
    assert party_type_in("a get together", rules.party_types) is None

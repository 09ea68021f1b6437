"""Age group, setting and skipped agents."""

import pytest

from agents.analyzer.age import age_group_in
from agents.analyzer.setting import setting_in
from agents.analyzer.skips import skips_in
from agents.graph import agent_plan


@pytest.mark.parametrize(
    ("text", "party_type", "age_group"),
    [
        ("her 40th", "birthday", "adults"),
        ("baby sprinkle for my 2nd", "baby_shower", None),
        ("our 10th", "anniversary", None),
        ("kid friendly", "general", "all"),
        ("15 kids plus parents", "birthday", "kids"),
        ("grandma's 90th birthday", "birthday", "adults"),
    ],
)
def test_age_group(rules, text, party_type, age_group):
    assert age_group_in(text, rules.ages, party_type) == age_group


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ("a winery outside Nashville", None),
        ("outside if it's sunny", "outdoor"),
        ("rooftop in Miami", "outdoor"),
        ("indoor ceremony, garden reception", "any"),
    ],
)
def test_setting(rules, text, setting):
    assert setting_in(text, rules.settings, rules.mixed_setting) == setting


@pytest.mark.parametrize(
    ("text", "agents"),
    [
        ("housewarming at our new place", {"venue"}),
        ("shower at my mom's house", {"venue"}),
        ("we'll do it in the office conference room", {"venue"}),
        ("bbq at our farm", {"venue"}),
        ("35 ppl total. backyard, denver", {"venue"}),
        ("small dinner, my place, tomorrow", {"venue"}),
        ("we're bringing the cake", {"cake"}),
        ("my aunt is making the cake", {"cake"}),
        ("at home, no cake", {"venue", "cake"}),
        ("a party in a big hall with cake", set()),
    ],
)
def test_skips(rules, text, agents):
    assert {rule.agent for rule in skips_in(text, rules.skip_rules)} == agents


def test_a_skipped_agent_leaves_the_graph_and_its_dependents(rules):
    running = [agent for agent in rules.agents if agent.name != "theme"]

    order, graph = agent_plan(running)

    assert order == ("venue", "cake", "budget")
    assert graph["cake"] == ()

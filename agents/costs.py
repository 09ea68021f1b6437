"""How a budget splits across categories, and what the picks must leave for catering and a reserve."""

PICK_CATEGORIES = ("venue", "theme", "cake")
RESERVED_CATEGORIES = ("catering", "contingency")

DEFAULT_SHARES = {"venue": 0.40, "theme": 0.15, "cake": 0.10, "catering": 0.25, "contingency": 0.10}
SHARES_BY_PARTY_TYPE = {
    "wedding": {"venue": 0.45, "theme": 0.12, "cake": 0.08, "catering": 0.28, "contingency": 0.07},
    "corporate": {"venue": 0.45, "theme": 0.08, "cake": 0.05, "catering": 0.32, "contingency": 0.10},
    "baby_shower": {"venue": 0.30, "theme": 0.20, "cake": 0.15, "catering": 0.25, "contingency": 0.10},
}
# Big family celebrations spend like weddings: a hall and a dinner come first.
SHARES_BY_PARTY_TYPE.update(dict.fromkeys(("mitzvah", "quinceanera"), SHARES_BY_PARTY_TYPE["wedding"]))
SHARES_BY_PARTY_TYPE["fundraiser"] = SHARES_BY_PARTY_TYPE["corporate"]
KIDS_SHARES = {"venue": 0.35, "theme": 0.20, "cake": 0.12, "catering": 0.23, "contingency": 0.10}


def budget_shares(*, party_type: str, age_group: str) -> dict[str, float]:
    """The fraction of the budget each category should take."""
    if age_group == "kids" and party_type in ("birthday", "general"):
        return KIDS_SHARES
    return SHARES_BY_PARTY_TYPE.get(party_type, DEFAULT_SHARES)


def reserved_share(*, party_type: str, age_group: str) -> float:
    """The part of the budget set aside for catering and a contingency, which the picks must leave."""
    shares = budget_shares(party_type=party_type, age_group=age_group)
    return sum(shares[category] for category in RESERVED_CATEGORIES)

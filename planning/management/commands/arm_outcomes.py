"""Per selection arm: finished plans, acceptance rate, mean rating and over-budget rate."""

import json

from django.core.management.base import BaseCommand

from planning import selectors


class Command(BaseCommand):
    help = "Print each selection arm's outcome figures (acceptance rate, mean rating, over-budget rate)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")

    def handle(self, *args, as_json: bool = False, **options) -> None:
        outcomes = selectors.arm_outcomes()
        if as_json:
            self.stdout.write(json.dumps(outcomes, indent=2, sort_keys=True))
            return
        columns = ("plans", "acceptance_rate", "verdicts", "mean_rating", "ratings", "over_budget_rate")
        self.stdout.write(f"{'arm':<12}" + "".join(f"{name:>18}" for name in columns))
        for arm, figures in outcomes.items():
            cells = "".join(f"{'-' if figures[name] is None else figures[name]!s:>18}" for name in columns)
            self.stdout.write(f"{arm or '(none)':<12}{cells}")

"""`manage.py faults`: inject, list or clear faults in the agents' providers, on every worker at once."""

import json

from django.core.management.base import BaseCommand, CommandError

from agents.faults import FAULT_KINDS, fault_clear, fault_set, faults_list


class Command(BaseCommand):
    help = "Inject faults (errors, latency) into an agent's provider, list them, or clear them."

    def add_arguments(self, parser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        inject = commands.add_parser("set", help="Inject a fault into one agent's provider.")
        inject.add_argument("agent")
        inject.add_argument("--error-rate", type=float, default=1.0)
        inject.add_argument("--latency-ms", type=int, default=0)
        inject.add_argument("--error", choices=FAULT_KINDS, default="transient")
        inject.add_argument(
            "--ignore-soft-limit", action="store_true", help="The latency is a stuck call only the hard limit ends."
        )
        clear = commands.add_parser("clear", help="Remove one agent's fault, or all.")
        clear.add_argument("agent", nargs="?")
        commands.add_parser("list", help="Show the faults in force.")

    def handle(self, *args, action: str, **options) -> None:
        if action == "set":
            try:
                fault = fault_set(
                    options["agent"],
                    error_rate=options["error_rate"],
                    latency_ms=options["latency_ms"],
                    error=options["error"],
                    ignore_soft_limit=options["ignore_soft_limit"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{options['agent']}: {json.dumps(fault)}")
        elif action == "clear":
            fault_clear(options.get("agent"))
            self.stdout.write("Cleared.")
        else:
            self.stdout.write(json.dumps(faults_list(), indent=2, sort_keys=True))

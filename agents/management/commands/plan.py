"""`manage.py plan "…"`: submit a party through the real pipeline and print the finished plan."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from agents import cli, services


class Command(BaseCommand):
    help = "Plan a party described in words, through the same pipeline as the API, and print the result."

    def add_arguments(self, parser) -> None:
        parser.add_argument("text", help='The party, e.g. "30th birthday, 40 guests, Austin, jazz theme, $3,000".')
        parser.add_argument("--user", default=cli.DEMO_USERNAME, help="Owner of the plan (created if missing).")
        parser.add_argument("--timeout", type=float, default=120, help="Seconds to wait for the plan.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the plan as JSON.")
        parser.add_argument(
            "--start-worker", action="store_true", help="Start a worker even when a broker is configured."
        )

    def handle(self, *args, text: str, user: str, timeout: float, as_json: bool, start_worker: bool, **options) -> None:
        if cli.is_embedded():
            cli.database_prepare()
        owner = cli.demo_user_ensure(username=user)
        with cli.pipeline_services(start_worker=start_worker):
            plan = services.plan_create(owner=owner, text=text)
            plan = cli.plan_wait(plan_id=plan.id, timeout=timeout)
        if as_json:
            self.stdout.write(self._json(plan))
        else:
            self.stdout.write(cli.plan_render(plan))
        if not plan.is_terminal:
            raise CommandError(f"Plan {plan.id} did not finish within {timeout:.0f}s (status {plan.status}).")

    @staticmethod
    def _json(plan) -> str:
        body = {"id": plan.id, "status": plan.status, "brief": plan.brief, "result": plan.result}
        return json.dumps(body, cls=DjangoJSONEncoder, indent=2)

"""`manage.py reconcile`: drive on stalled plans now (Celery beat also runs this every minute)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from agents.services import plan_reconcile


class Command(BaseCommand):
    help = "Re-drive or finalize running plans that have made no progress for a while."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--stalled-after", type=int, default=settings.PLAN_STALLED_AFTER, help="Seconds without progress."
        )
        parser.add_argument("--max-redrives", type=int, default=settings.PLAN_MAX_REDRIVES)

    def handle(self, *args, stalled_after: int, max_redrives: int, **options) -> None:
        counts = plan_reconcile(stalled_after=timedelta(seconds=stalled_after), max_redrives=max_redrives)
        self.stdout.write(", ".join(f"{count} {kind}" for kind, count in counts.items()))

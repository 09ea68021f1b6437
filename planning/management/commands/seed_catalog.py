"""`manage.py seed_catalog [--file PATH]`: load the venue, theme and cake catalog."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from planning.services import catalog_seed


class Command(BaseCommand):
    help = "Load the catalog (cities, venues, themes, bakeries, cakes); safe to run again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--file", type=Path, help="A catalog JSON file (default: the shipped dataset).")

    def handle(self, *args, file: Path | None = None, **options) -> None:
        counts = catalog_seed(data=json.loads(file.read_text()) if file else None)
        if options["verbosity"]:
            self.stdout.write(", ".join(f"{count} {kind}" for kind, count in counts.items()))

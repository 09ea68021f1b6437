"""Worker liveness: the worker's consumer loop touches a file every few seconds, and a probe (compose's
healthcheck, a Kubernetes liveness probe) checks that the file is fresh:

    python -m partyproject.liveness /tmp/worker.alive --max-age 60

A worker that crashed, hangs in its main loop or has exited leaves the file stale, and its supervisor
restarts it.
"""

import argparse
import sys
import time
from pathlib import Path

from celery import bootsteps

TOUCH_INTERVAL = 5.0


class LivenessFile(bootsteps.StartStopStep):
    """Touches settings.WORKER_LIVENESS_FILE from the consumer's timer (off when the setting is empty)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        from django.conf import settings

        super().__init__(parent, **kwargs)
        self.path = Path(settings.WORKER_LIVENESS_FILE) if settings.WORKER_LIVENESS_FILE else None
        self.timer_entry = None

    def start(self, parent) -> None:
        if self.path is None:
            return
        self.touch()
        self.timer_entry = parent.timer.call_repeatedly(TOUCH_INTERVAL, self.touch)

    def stop(self, parent) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    def touch(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()


def is_fresh(path: Path, *, max_age: float) -> bool:
    """True when `path` exists and was touched within `max_age` seconds."""
    try:
        return time.time() - path.stat().st_mtime <= max_age
    except FileNotFoundError:
        return False


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the liveness file is fresh, 1 otherwise."""
    parser = argparse.ArgumentParser(description="Is the worker alive? Checks its liveness file's age.")
    parser.add_argument("path", type=Path)
    parser.add_argument("--max-age", type=float, default=60.0, help="Seconds (default 60).")
    options = parser.parse_args(argv)
    fresh = is_fresh(options.path, max_age=options.max_age)
    print("alive" if fresh else f"stale or missing: {options.path}")
    return 0 if fresh else 1


if __name__ == "__main__":
    sys.exit(main())

"""No-op tasks for the floor benchmark: a bare chord of four header tasks and a callback."""

from celery import shared_task


@shared_task(name="bench.noop")
def noop(*args, **kwargs) -> None:
    """Do nothing; measures Celery's own cost per task."""

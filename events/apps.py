from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events out"

    def ready(self) -> None:
        from planning.signals import plan_events_committed

        plan_events_committed.connect(_wake, dispatch_uid="events.plan_wake")


def _wake(sender, *, plan_id, **_) -> None:
    """A committed event wakes the plan's subscribers (they read the log themselves)."""
    from .notify import plan_wake

    plan_wake(plan_id=plan_id)

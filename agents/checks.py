"""System checks for settings that only go wrong under failure."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def visibility_timeout_covers_tasks(app_configs, **kwargs) -> list[Error]:
    """A dead worker's messages return after the visibility timeout; a task that may run (or wait for
    a retry) longer than that would be delivered twice while it is still alive."""
    longest = max(policy["time_limit"] + policy["retry_backoff_max"] for policy in settings.AGENT_POLICIES.values())
    if longest < settings.CELERY_VISIBILITY_TIMEOUT:
        return []
    return [
        Error(
            f"CELERY_VISIBILITY_TIMEOUT ({settings.CELERY_VISIBILITY_TIMEOUT}s) must exceed the longest agent "
            f"time limit plus retry backoff ({longest}s).",
            hint="Raise CELERY_VISIBILITY_TIMEOUT or lower AGENT_TIME_LIMIT / AGENT_RETRY_BACKOFF_MAX.",
            id="agents.E001",
        )
    ]


@register()
def stall_threshold_covers_redelivery(app_configs, **kwargs) -> list[Error]:
    """The reconciler must not take a plan for lost while its messages may still come back."""
    if settings.PLAN_STALLED_AFTER > settings.CELERY_VISIBILITY_TIMEOUT:
        return []
    return [
        Error(
            f"PLAN_STALLED_AFTER ({settings.PLAN_STALLED_AFTER}s) must exceed CELERY_VISIBILITY_TIMEOUT "
            f"({settings.CELERY_VISIBILITY_TIMEOUT}s).",
            hint="A dead worker's tasks come back after the visibility timeout; re-drive only after that.",
            id="agents.E002",
        )
    ]


@register()
def selection_arms_are_known(app_configs, **kwargs) -> list[Error]:
    """Every arm of the selection A/B test must name a strategy, with a weight that is not negative."""
    from .strategies import STRATEGIES

    arms = settings.SELECTION_ARMS
    unknown = sorted(set(arms) - set(STRATEGIES))
    if not unknown and all(weight >= 0 for weight in arms.values()) and any(arms.values()):
        return []
    return [
        Error(
            f"SELECTION_ARMS ({arms}) must map known strategies to weights >= 0, at least one above 0"
            + (f"; unknown: {', '.join(unknown)}." if unknown else "."),
            hint=f"Known strategies: {', '.join(sorted(STRATEGIES))}.",
            id="agents.E003",
        )
    ]

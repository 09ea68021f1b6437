"""System checks for settings that only go wrong under failure."""

from django.conf import settings
from django.core.checks import Error, register

from .analyzer.classifier import CLASSIFIERS, classifier_available


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
def analyzer_classifier_is_installed(app_configs, **kwargs) -> list[Error]:
    """A configured classifier must be known and its optional extra installed, or plans would fail."""
    name = settings.ANALYZER_CLASSIFIER
    if name not in CLASSIFIERS:
        problem, hint = f"ANALYZER_CLASSIFIER={name!r} is unknown.", f"Use one of {', '.join(map(repr, CLASSIFIERS))}."
    elif name and not classifier_available():
        problem, hint = f"ANALYZER_CLASSIFIER={name!r} needs the optional extra.", "pip install -r requirements-ml.txt"
    else:
        return []
    return [Error(problem, hint=hint, id="agents.E003")]

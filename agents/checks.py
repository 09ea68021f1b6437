"""System checks for settings that only go wrong under failure."""

import dataclasses

from django.conf import settings
from django.core.checks import Error, register

from .analyzer import Brief
from .analyzer.classifier import CLASSIFIERS, classifier_available
from .base import agent_policy
from .digests import CONSTRAINTS
from .registry import agent_classes, agent_names


def _policies() -> dict[str, dict]:
    return {name: agent_policy(name) for name in [*agent_names(), "planner"]}


@register()
def visibility_timeout_covers_tasks(app_configs, **kwargs) -> list[Error]:
    """A dead worker's messages return after the visibility timeout; a task that may run (or wait for
    a retry) longer than that would be delivered twice while it is still alive."""
    longest = max(
        settings.CELERY_TASK_TIME_LIMIT,
        *(policy["time_limit"] + policy["retry_backoff_max"] for policy in _policies().values()),
    )
    if longest < settings.CELERY_VISIBILITY_TIMEOUT:
        return []
    return [
        Error(
            f"CELERY_VISIBILITY_TIMEOUT ({settings.CELERY_VISIBILITY_TIMEOUT}s) must exceed the longest task "
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
def soft_limit_below_hard_limit(app_configs, **kwargs) -> list[Error]:
    """Prefork arms the hard timer only once the soft one has fired: a hard limit at or below the soft
    limit is never enforced, and a stuck task then runs for ever."""
    limits = {name: (policy["soft_time_limit"], policy["time_limit"]) for name, policy in _policies().items()}
    limits["other tasks"] = (settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT)
    return [
        Error(
            f"The soft time limit of {name} ({soft}s) must be below its hard time limit ({hard}s).",
            hint="Set soft_time_limit < time_limit (AGENT_SOFT_TIME_LIMIT, AGENT_TIME_LIMIT, AGENT_<NAME>_POLICY, "
            "CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT).",
            id="agents.E003",
        )
        for name, (soft, hard) in limits.items()
        if soft >= hard
    ]


@register()
def rules_name_registered_agents(app_configs, **kwargs) -> list[Error]:
    """Every agent the analyzer's rules can put in a plan's graph has a registered class (and task)."""
    from .analyzer import load_rules

    registered = set(agent_names())
    named = {rule.name for rule in load_rules(settings.ANALYZER_RULES_PATH).agents}
    return [
        Error(
            f"The analyzer rules name the agent {name!r}, but no agent class is registered under that name.",
            hint="Add an Agent subclass with `name = ...` in a module of the agents package, or fix the rules.",
            id="agents.E004",
        )
        for name in sorted(named - registered)
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
            id="agents.E005",
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
    return [Error(problem, hint=hint, id="agents.E006")]


@register()
def agents_declare_what_they_read(app_configs, **kwargs) -> list[Error]:
    """An agent's `reads` decide when a revision may reuse its result: each must name brief fields (or
    "constraints"), and an agent that declares nothing would be reused whatever changed."""
    known = {field.name for field in dataclasses.fields(Brief)} | {CONSTRAINTS}
    errors = []
    for name, agent_class in agent_classes().items():
        unknown = sorted(set(agent_class.reads) - known)
        if unknown or not agent_class.reads:
            problem = f"names unknown fields {', '.join(unknown)}" if unknown else "declares none"
            errors.append(
                Error(
                    f"The {name} agent's `reads` {problem}.",
                    hint="List every Brief field the agent's run() looks at, plus 'constraints' if it honours pins.",
                    id="agents.E007",
                )
            )
    return errors

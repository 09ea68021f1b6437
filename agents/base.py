"""What every domain agent shares: lifecycle, status rows, events, retries, breaker, failure marker.

An agent subclass implements only `run(context)`, its own ranking. `agent_task(AgentClass)` turns it
into a Celery task with a stable name, declared retries for transient errors, time limits and late
acknowledgement. On the last attempt a failure is *returned* as a marker instead of raised, because a
header task that ends in FAILURE stops the chord's callback from ever running; this way the
FinalPlanner always runs and can produce a partial plan.
"""

import logging
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection

from planning import selectors, services
from planning.models import AgentRunStatus

from .analyzer import Brief
from .digests import input_digest, output_digest
from .errors import TRANSIENT_ERRORS
from .pipeline import PLANNER_TASK, agent_task_name
from .providers import CatalogProvider
from .registry import agent_register

logger = logging.getLogger(__name__)

TIMED_OUT = "The agent ran past its time limit."


@dataclass(frozen=True)
class AgentContext:
    """Everything an agent needs for one attempt."""

    plan_id: str
    brief: Brief
    upstream: Mapping[str, Mapping[str, Any]]
    attempt: int
    constraints: Mapping[str, Any] = field(default_factory=dict)


def describe(exc: BaseException) -> str:
    """`ExceptionName: message`, for run rows and events."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Agent(ABC):
    """A domain agent. Subclasses set `name` and `reads` and implement `run`.

    `reads` names every brief field `run` looks at (and "constraints" if it honours the plan's pins and
    exclusions): a revision that changes none of them reuses the agent's earlier result. Bump `version`
    when the agent's behaviour changes in a way its source does not show (its data, say).
    """

    name: ClassVar[str]
    reads: ClassVar[tuple[str, ...]] = ()
    version: ClassVar[str] = "1"
    top_n: ClassVar[int] = 3

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            agent_register(cls)

    def __init__(self, provider: CatalogProvider | None = None) -> None:
        self.provider = provider or CatalogProvider(self.name)

    @abstractmethod
    def run(self, context: AgentContext) -> dict[str, Any]:
        """Rank options against the brief; JSON-ready, with a `summary` (and `choices`, best first)."""

    def execute(
        self, *, plan_id: str, task_id: str, attempt: int, last_attempt: bool, revision: int | None = None
    ) -> dict[str, str]:
        """One attempt: claim the run, do the work, record how it ended, return the chord's marker.

        Transient errors before the last attempt are re-raised for Celery's autoretry. On the last
        attempt every error, even one that keeps the outcome from being recorded, ends in a returned
        marker, so the chord's callback still runs. A redelivered or duplicate message for a finished
        run, or one for a revision the plan no longer runs, returns the stored outcome without running.
        When an earlier revision's run read exactly the same inputs, its result is carried over and
        the provider is not called.
        """
        if revision is None:
            revision = selectors.plan_revision(plan_id=plan_id)
        self.revision = revision
        try:
            claim = services.agent_run_start(plan_id=plan_id, revision=revision, agent=self.name, task_id=task_id)
            if claim is None:
                return self.marker(selectors.agent_run_status(plan_id=plan_id, revision=revision, agent=self.name))
            upstream = selectors.agent_results(plan_id=plan_id, revision=revision, agents=claim.depends_on)
            inputs = input_digest(
                agent_class=type(self),
                brief=claim.brief or {},
                constraints=claim.constraints,
                upstream={agent: output for agent, (_, output) in upstream.items()},
                catalog_version=self.provider.catalog_version(),
            )
            if revision > 1:
                earlier = selectors.agent_run_reusable(
                    plan_id=plan_id, agent=self.name, input_digest=inputs, before=revision
                )
                if earlier is not None:
                    return self._end(
                        plan_id, AgentRunStatus.SUCCEEDED, result=earlier.result, claim=claim,
                        digests=(inputs, earlier.output_digest), reused_from=earlier.reused_from_id or earlier.pk,
                    )  # fmt: skip
            context = AgentContext(
                plan_id=plan_id,
                brief=Brief.from_dict(claim.brief),
                upstream={agent: result for agent, (result, _) in upstream.items()},
                attempt=claim.attempts,
                constraints=claim.constraints,
            )
            result = self.run(context)
        except SoftTimeLimitExceeded:
            # The limit may have interrupted a query: that connection's state is unknown, so drop it
            # and record the outcome on a fresh one (the hard limit still bounds this).
            connection.close()
            letter = self._letter(task_id, attempt, "timed_out")
            return self._end(plan_id, AgentRunStatus.TIMED_OUT, error=TIMED_OUT, letter=letter)
        except TRANSIENT_ERRORS as exc:
            if not last_attempt:
                self._note_retry(plan_id, task_id, exc)
                raise
            error = f"Gave up after {attempt} attempts: {describe(exc)}"
            return self._end(
                plan_id, AgentRunStatus.FAILED, error=error, letter=self._letter(task_id, attempt, "exhausted")
            )
        except Exception as exc:
            logger.exception("Agent %s failed on plan %s", self.name, plan_id)
            letter = self._letter(task_id, attempt, "failed")
            return self._end(plan_id, AgentRunStatus.FAILED, error=describe(exc), letter=letter)
        return self._end(
            plan_id, AgentRunStatus.SUCCEEDED, result=result, retry_if_unrecorded=not last_attempt, claim=claim,
            digests=(inputs, output_digest(result)),
        )  # fmt: skip

    def _letter(self, task_id: str, attempts: int, reason: str) -> dict[str, Any]:
        """What the dead-letter store keeps of this failed attempt (call inside the except block)."""
        return {
            "task_name": agent_task_name(self.name),
            "task_id": task_id,
            "reason": reason,
            "traceback": traceback.format_exc(),
            "attempts": attempts,
        }

    def _note_retry(self, plan_id: str, task_id: str, exc: BaseException) -> None:
        """Record that a retry follows; if even that fails, the retry still happens."""
        try:
            services.agent_run_retrying(
                plan_id=plan_id, revision=self.revision, agent=self.name, task_id=task_id, error=describe(exc)
            )
        except Exception:
            logger.exception("Could not record the retry of %s on plan %s", self.name, plan_id)

    def _end(
        self,
        plan_id: str,
        status: str,
        *,
        result: dict[str, Any] | None = None,
        error: str = "",
        retry_if_unrecorded: bool = False,
        letter: dict[str, Any] | None = None,
        claim: services.RunClaim | None = None,
        digests: tuple[str, str] | None = None,
        reused_from: int | None = None,
    ) -> dict[str, str]:
        """Record the outcome and return the marker of what is stored (a duplicate may have won).

        If the outcome cannot be recorded, a success is retried while attempts remain (for a transient
        error); otherwise the run is recorded as failed with the reason if possible, and a marker is
        returned whatever happens, so the chord's callback runs and closes what is still open.
        """
        try:
            stored = services.agent_run_finish(
                plan_id=plan_id, revision=self.revision, agent=self.name, status=status, result=result, error=error,
                dead_letter=letter, claim=claim, digests=digests, reused_from=reused_from,
            )  # fmt: skip
            return self.marker(stored)
        except Exception as exc:
            if retry_if_unrecorded and isinstance(exc, TRANSIENT_ERRORS):
                raise
            logger.exception("Could not record %s for %s on plan %s", status, self.name, plan_id)
            reason = f"The outcome ({status}) could not be recorded: {describe(exc)}"
            try:
                services.agent_run_finish(
                    plan_id=plan_id, revision=self.revision, agent=self.name, status=AgentRunStatus.FAILED, error=reason
                )
            except Exception:
                logger.exception("Could not record the failure of %s on plan %s either", self.name, plan_id)
            return self.marker(AgentRunStatus.FAILED)

    def marker(self, status: str | None) -> dict[str, str]:
        """The small value a header task returns to the chord; the planner reads results from the database."""
        return {"agent": self.name, "status": status or "missing"}


def agent_policy(name: str) -> dict[str, Any]:
    """An agent's (or the planner's) retry policy and time limits: the default with its overrides."""
    return {**settings.AGENT_DEFAULT_POLICY, **settings.AGENT_POLICY_OVERRIDES.get(name, {})}


def task_options(name: str, task_name: str) -> dict[str, Any]:
    """Celery options for an agent's (or the planner's) task, from its policy."""
    policy = agent_policy(name)
    return {
        "name": task_name,
        "bind": True,
        "autoretry_for": TRANSIENT_ERRORS,
        "max_retries": policy["max_retries"],
        "retry_backoff": policy["retry_backoff"],
        "retry_backoff_max": policy["retry_backoff_max"],
        "retry_jitter": policy["retry_jitter"],
        "default_retry_delay": policy["retry_backoff_max"],
        "soft_time_limit": policy["soft_time_limit"],
        "time_limit": policy["time_limit"],
        "acks_late": True,
        "reject_on_worker_lost": True,
    }


def is_last_attempt(task: Task) -> bool:
    """True on the attempt after which Celery would not retry again."""
    return task.max_retries is not None and task.request.retries >= task.max_retries


def agent_task(agent_class: type[Agent]) -> Task:
    """Register `agent_class` as the Celery task `agents.<name>`, taking only a plan id."""

    def run(self: Task, plan_id: str, revision: int | None = None, **_: Any) -> dict[str, str]:
        return agent_class().execute(
            plan_id=plan_id,
            revision=revision,
            task_id=self.request.id,
            attempt=self.request.retries + 1,
            last_attempt=is_last_attempt(self),
        )

    run.__name__ = run.__qualname__ = f"{agent_class.name}_task"
    run.__doc__ = f"Run the {agent_class.name} agent for one plan."
    return shared_task(**task_options(agent_class.name, agent_task_name(agent_class.name)))(run)


def planner_task(finalize: Callable[[str, int | None], Any], fail: Callable[[str, int | None, str], Any]) -> Task:
    """Register the FinalPlanner (the chord's callback) as the task `agents.planner`."""

    def run(self: Task, plan_id: str, revision: int | None = None, **_: Any) -> str:
        try:
            return finalize(plan_id, revision)
        except TRANSIENT_ERRORS:
            if not is_last_attempt(self):
                raise
            logger.exception("The planner could not reach the database for plan %s; the reconciler will", plan_id)
            return "deferred"
        except Exception as exc:
            logger.exception("The planner failed on plan %s", plan_id)
            fail(plan_id, revision, describe(exc))
        return "failed"

    run.__name__ = run.__qualname__ = "planner_task"
    run.__doc__ = "Aggregate a plan's agent results into its final plan."
    return shared_task(**task_options("planner", PLANNER_TASK))(run)

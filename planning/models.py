"""Plans, their agent runs and event log, and the catalog the agents plan from."""

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models


class PlanStatus(models.TextChoices):
    RECEIVED = "received"
    ANALYZING = "analyzing"
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Plan(models.Model):
    """One party request and, once the agents have run, its plan."""

    TERMINAL: ClassVar[frozenset[str]] = frozenset(
        {PlanStatus.COMPLETE, PlanStatus.PARTIAL, PlanStatus.FAILED, PlanStatus.CANCELLED}
    )
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        PlanStatus.RECEIVED: frozenset({PlanStatus.ANALYZING, PlanStatus.FAILED, PlanStatus.CANCELLED}),
        PlanStatus.ANALYZING: frozenset({PlanStatus.RUNNING, PlanStatus.FAILED, PlanStatus.CANCELLED}),
        PlanStatus.RUNNING: frozenset(
            {PlanStatus.COMPLETE, PlanStatus.PARTIAL, PlanStatus.FAILED, PlanStatus.CANCELLED}
        ),
        # An ended plan may run again as a new revision: an edit, a retry of what failed, a dead letter
        # replayed. A cancelled plan stays cancelled.
        PlanStatus.COMPLETE: frozenset({PlanStatus.RUNNING}),
        PlanStatus.PARTIAL: frozenset({PlanStatus.RUNNING}),
        PlanStatus.FAILED: frozenset({PlanStatus.RUNNING}),
        PlanStatus.CANCELLED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plans")
    request_text = models.TextField(blank=True)
    request_fields = models.JSONField(default=dict, blank=True)
    brief = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.RECEIVED)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic lock: bumped on every change.")
    event_seq = models.PositiveIntegerField(default=0, help_text="Sequence number of the last event.")
    revision = models.PositiveIntegerField(default=1, help_text="The current revision: its agents' runs count.")
    constraints = models.JSONField(
        default=dict, blank=True, help_text='The current revision\'s pins and exclusions: {"pin": …, "exclude": …}.'
    )
    result = models.JSONField(null=True, blank=True, help_text="The final plan, written once.")
    error = models.TextField(blank=True)
    selection_arm = models.CharField(
        max_length=32, blank=True, help_text="The selection strategy (A/B arm) this plan was planned with."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    admitted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the plan took one of its owner's running slots (null while it waits)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="plan_owner_created"),
            models.Index(fields=["status", "updated_at"], name="plan_status_updated"),
            # The plans changed lately, whatever their status: the event relay reads them every step.
            models.Index(fields=["updated_at"], name="plan_updated"),
            models.Index(
                fields=["owner"],
                name="plan_admitted_running",
                condition=models.Q(status="running", admitted_at__isnull=False),
            ),
            # A user's plans waiting for admission (a waiting dispatch's plan is never admitted): whether
            # a user has any is asked on every POST and whenever one of their plans ends.
            models.Index(
                fields=["owner", "created_at"],
                name="plan_waiting",
                condition=models.Q(status="running", admitted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Plan {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class RevisionSource(models.TextChoices):
    REQUEST = "request"
    EDIT = "edit"
    RETRY = "retry"
    REPLAY = "replay"


class PlanRevision(models.Model):
    """One numbered version of a plan's brief and the result its agent runs produced.

    Revision 1 comes from the request; each edit, retry or replay adds the next one. Earlier revisions
    stay readable; only the plan's current revision may still change.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    source = models.CharField(max_length=16, choices=RevisionSource.choices)
    changes = models.JSONField(default=dict, blank=True, help_text="What this revision changed: fields, pins.")
    request_fields = models.JSONField(default=dict, blank=True, help_text="The fields the brief was analysed from.")
    constraints = models.JSONField(default=dict, blank=True, help_text="Pins and exclusions in force.")
    brief = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.RUNNING)
    superseded = models.BooleanField(default=False, help_text="A newer revision replaced it before it ended.")
    reran = models.JSONField(default=list, blank=True, help_text="Agents dispatched for this revision.")
    reused = models.JSONField(default=list, blank=True, help_text="Agents whose earlier result was carried over.")
    result = models.JSONField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("plan", "number")
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="planrevision_unique_plan_number")]

    def __str__(self) -> str:
        return f"Plan {self.plan_id} revision {self.number} ({self.status})"


class FeedbackPick(models.TextChoices):
    VENUE = "venue"
    THEME = "theme"
    CAKE = "cake"


class FeedbackVerdict(models.TextChoices):
    ACCEPT = "accept"
    REJECT = "reject"


class Feedback(models.Model):
    """What a plan's owner said about it: a pick accepted or rejected, and/or a rating of the plan."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="feedback")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_feedback")
    arm = models.CharField(max_length=32, blank=True, help_text="The plan's selection arm when this was given.")
    pick = models.CharField(max_length=8, choices=FeedbackPick.choices, blank=True)
    verdict = models.CharField(max_length=8, choices=FeedbackVerdict.choices, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "feedback"
        indexes = [models.Index(fields=["arm", "created_at"], name="feedback_arm_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="feedback_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(verdict="") | ~models.Q(pick=""), name="feedback_verdict_names_a_pick"
            ),
        ]

    def __str__(self) -> str:
        said = [f"{self.verdict} {self.pick}" if self.verdict else "", f"rated {self.rating}" if self.rating else ""]
        return f"Feedback on {self.plan_id}: {', '.join(filter(None, said))}"


class AgentRunStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


class AgentRun(models.Model):
    """One domain agent's work on one revision of a plan; one row per (plan, revision, agent).

    `input_digest` fingerprints everything the run read (the brief fields the agent declares, the pins
    if it reads them, its dependencies' results, the catalog version, the agent's code); a later
    revision with the same digest carries the result over (`reused_from`) instead of running again.
    """

    FINISHED: ClassVar[frozenset[str]] = frozenset(
        {AgentRunStatus.SUCCEEDED, AgentRunStatus.FAILED, AgentRunStatus.TIMED_OUT}
    )
    ENDED: ClassVar[frozenset[str]] = FINISHED | {AgentRunStatus.CANCELLED}
    UNFINISHED_CLAIMED: ClassVar[tuple[str, ...]] = (AgentRunStatus.RUNNING, AgentRunStatus.RETRYING)

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="agent_runs")
    revision = models.PositiveIntegerField(default=1)
    agent = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=AgentRunStatus.choices, default=AgentRunStatus.PENDING)
    depends_on = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    input_digest = models.CharField(max_length=64, blank=True)
    output_digest = models.CharField(max_length=64, blank=True)
    reused_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The run carried over."
    )

    class Meta:
        ordering = ("plan", "revision", "id")
        constraints = [
            models.UniqueConstraint(fields=["plan", "revision", "agent"], name="agentrun_unique_plan_revision_agent")
        ]

    def __str__(self) -> str:
        return f"{self.agent} for {self.plan_id} r{self.revision} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.ENDED

    @property
    def reused(self) -> bool:
        return self.reused_from_id is not None


class PlanEvent(models.Model):
    """An append-only log entry; `seq` counts 1, 2, 3… per plan with no gaps and no duplicates."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    revision = models.PositiveIntegerField(default=1, help_text="The plan's revision the event belongs to.")
    type = models.CharField(max_length=48)
    agent = models.CharField(max_length=32, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    trace_id = models.CharField(max_length=32, blank=True, help_text="OpenTelemetry trace of the change, if traced.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("plan", "seq")
        constraints = [models.UniqueConstraint(fields=["plan", "seq"], name="planevent_unique_plan_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type}"


class DispatchState(models.TextChoices):
    WAITING = "waiting"  # for admission: its owner is at their cap, or every slot is taken
    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"


class PlanDispatch(models.Model):
    """The outbox: a plan's intent to run some of one revision's agents, written in the transaction that
    decides it.

    The web process publishes it right after commit; whatever it could not publish (the broker was down,
    the process died) the sweeper publishes later, so an accepted plan never depends on the broker being up.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="dispatches")
    revision = models.PositiveIntegerField(default=1, help_text="The plan revision whose agents it runs.")
    reason = models.CharField(max_length=16, help_text="initial, edit, retry, redrive or replay.")
    attempt = models.PositiveSmallIntegerField(default=0, help_text="Which re-drive or replay this is.")
    graph = models.JSONField(help_text="The agents to run, each with the agents it waits for.")
    state = models.CharField(max_length=16, choices=DispatchState.choices, default=DispatchState.PENDING)
    publish_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    available_at = models.DateTimeField(help_text="When the sweeper may (next) publish it.")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("plan", "id")
        indexes = [
            models.Index(
                fields=["available_at"],
                name="plandispatch_pending_due",
                condition=models.Q(state="pending"),
            ),
            models.Index(
                fields=["created_at"],
                name="plandispatch_waiting",
                condition=models.Q(state="waiting"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} dispatch of {self.plan_id} ({self.state})"


class DeadLetter(models.Model):
    """A task that ended for good without doing its work: retries exhausted, a permanent error, or killed.

    Kept with everything needed to understand and replay it; replaying is recorded, and a letter is
    replayed at most once (a second request finds it already replayed).
    """

    task_name = models.CharField(max_length=100)
    task_id = models.CharField(max_length=64, blank=True)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.CASCADE, related_name="dead_letters")
    agent = models.CharField(max_length=32, blank=True)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=16, help_text="exhausted, failed, timed_out or killed.")
    error = models.TextField()
    traceback = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replay_outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["task_name", "-created_at"], name="deadletter_task_created"),
            models.Index(fields=["created_at"], name="deadletter_unreplayed", condition=models.Q(replayed_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} [{self.task_id}] {self.reason}"


# --- Catalog --------------------------------------------------------------------------------------


class City(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    state = models.CharField(max_length=8)
    aliases = models.JSONField(default=list, blank=True)
    cost_index = models.DecimalField(max_digits=4, decimal_places=2, default=1)

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "cities"

    def __str__(self) -> str:
        return f"{self.name}, {self.state}"


class Setting(models.TextChoices):
    INDOOR = "indoor"
    OUTDOOR = "outdoor"
    MIXED = "mixed"


class Venue(models.Model):
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="venues")
    name = models.CharField(max_length=150)
    capacity = models.PositiveIntegerField()
    min_guests = models.PositiveIntegerField(default=1)
    base_price = models.PositiveIntegerField(help_text="Flat hire, USD.")
    price_per_guest = models.PositiveIntegerField(default=0, help_text="USD per guest.")
    setting = models.CharField(max_length=8, choices=Setting.choices)
    amenities = models.JSONField(default=list, blank=True)
    party_types = models.JSONField(default=list, blank=True)
    audiences = models.JSONField(default=list, blank=True, help_text="Age groups it suits: kids, teens, adults.")
    rating = models.DecimalField(max_digits=2, decimal_places=1)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ("city", "name")
        constraints = [models.UniqueConstraint(fields=["city", "name"], name="venue_unique_city_name")]
        indexes = [models.Index(fields=["city", "capacity"], name="venue_city_capacity")]

    def __str__(self) -> str:
        return self.name

    def cost_for(self, guests: int) -> int:
        """Hire cost in USD for `guests` guests."""
        return self.base_price + self.price_per_guest * guests


class Theme(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    keywords = models.JSONField(default=list, blank=True)
    party_types = models.JSONField(default=list, blank=True)
    seasons = models.JSONField(default=list, blank=True, help_text="When it is in season; empty: all year.")
    settings = models.JSONField(default=list, blank=True, help_text="indoor and/or outdoor; empty: either.")
    age_groups = models.JSONField(default=list, blank=True)
    decoration_base_cost = models.PositiveIntegerField()
    cost_per_guest = models.PositiveIntegerField(default=0)
    style_tags = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def cost_for(self, guests: int) -> int:
        """Decoration cost in USD for `guests` guests."""
        return self.decoration_base_cost + self.cost_per_guest * guests


class Bakery(models.Model):
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="bakeries")
    name = models.CharField(max_length=150)
    rating = models.DecimalField(max_digits=2, decimal_places=1)

    class Meta:
        ordering = ("city", "name")
        verbose_name_plural = "bakeries"
        constraints = [models.UniqueConstraint(fields=["city", "name"], name="bakery_unique_city_name")]

    def __str__(self) -> str:
        return self.name


class Cake(models.Model):
    bakery = models.ForeignKey(Bakery, on_delete=models.CASCADE, related_name="cakes")
    name = models.CharField(max_length=150)
    flavor = models.CharField(max_length=50)
    price_per_serving = models.DecimalField(max_digits=6, decimal_places=2)
    dietary = models.JSONField(default=list, blank=True)
    min_servings = models.PositiveIntegerField(default=1)
    max_servings = models.PositiveIntegerField()
    lead_time_days = models.PositiveSmallIntegerField(default=2)
    style_tags = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ("bakery", "name")
        constraints = [models.UniqueConstraint(fields=["bakery", "name"], name="cake_unique_bakery_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.bakery})"


class CatalogVersion(models.Model):
    """The catalog's version: a single row, bumped in the same transaction as any change to the catalog, so
    that every process's catalog cache (planning.catalog_cache) knows when to reload.

    Versions only grow and are never handed out twice, even after a rollback, a flush or a restore: a bump
    takes the larger of the previous version + 1 and the current time in microseconds.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"catalog version {self.version}"

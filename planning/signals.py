"""Signals other apps listen to, so that planning depends on none of them."""

from django.dispatch import Signal

# Sent after the transaction that appended one or more of a plan's events has committed (keyword: plan_id).
# The live streams use it as a wake-up; the events themselves are always read from the log.
plan_events_committed = Signal()

# Sent after the transaction that ended a plan has committed (keywords: plan_id, owner_id): the plan's running
# slot is free, so admission can let a waiting plan run.
plan_ended = Signal()

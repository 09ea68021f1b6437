"""The relay's durable position: how far each plan's event log has been published to the bus."""

from django.db import models

from planning.models import Plan


class RelayCursor(models.Model):
    """The last sequence number of a plan's events that the relay has handed to the event bus."""

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, primary_key=True, related_name="relay_cursor")
    seq = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.plan_id} relayed to #{self.seq}"

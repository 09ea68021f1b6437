"""The wake-up signal: after a plan's events commit, tell the processes that stream it to read the log.

The signal carries no event. The channel layer may drop it (a channel over capacity, Redis briefly
away); subscribers then still catch up by polling the log, which is the only source of truth.
"""

import logging
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

WAKE_TYPE = "plan.wake"


def plan_group(plan_id: UUID | str) -> str:
    """The channel-layer group of the processes streaming a plan."""
    return f"plan.{UUID(str(plan_id)).hex}"


def plan_wake(*, plan_id: UUID | str) -> None:
    """Signal that a plan has new committed events. Never raises: a lost signal only delays delivery."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(plan_group(plan_id), {"type": WAKE_TYPE, "plan_id": str(plan_id)})
    except Exception:
        logger.warning("Could not signal new events of plan %s", plan_id, exc_info=True)

"""Keeps trigger states in step with flow saves, and reacts to executions that end."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from executions.models import Execution
from executions.signals import execution_ended
from flows.models import Flow

from .flow_triggers import flow_triggers_fire, stop_after_apply
from .states import trigger_states_sync

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Flow, dispatch_uid="triggers-flow-saved")
def _flow_saved(sender: type[Flow], instance: Flow, **kwargs: Any) -> None:
    # In the save's transaction: the states change exactly when the flow does.
    trigger_states_sync(flow=instance)


@receiver(execution_ended, dispatch_uid="triggers-execution-ended")
def _execution_ended(sender: object, execution: Execution, **kwargs: Any) -> None:
    # Sent after the commit by whoever ended the execution (a worker): a trigger that
    # fails here must not disturb it.
    try:
        stop_after_apply(execution=execution)
        flow_triggers_fire(execution=execution)
    except Exception:
        logger.exception("Flow triggers failed after execution %s ended", execution.pk)

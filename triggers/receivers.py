"""Keeps trigger states in step with flow saves, and reacts to executions that end."""

from __future__ import annotations

import copy
import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from executions.models import Execution, State
from executions.signals import execution_changed, execution_ended
from flows.models import Flow

from .flow_triggers import flow_triggers_fire, flow_triggers_waiting, stop_after_apply
from .models import TriggerState
from .sla_monitors import sla_monitors_end, sla_monitors_start
from .states import trigger_states_sync

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Flow, dispatch_uid="triggers-flow-saved")
def _flow_saved(sender: type[Flow], instance: Flow, **kwargs: Any) -> None:
    # In the save's transaction: the states change exactly when the flow does.
    trigger_states_sync(flow=instance)


@receiver(execution_ended, dispatch_uid="triggers-execution-ended")
def _execution_ended(sender: object, execution: Execution, **kwargs: Any) -> None:
    # Sent inside the transaction that ends the execution (a worker's): what is read and
    # changed here is part of it, in a savepoint, so that a trigger that fails here rolls
    # back its own work only and never disturbs the ending. Executions start on commit.
    try:
        with transaction.atomic():
            stop_after_apply(execution=execution)
            sla_monitors_end(execution=execution)
            waiting = flow_triggers_waiting(execution=execution)
    except Exception:
        logger.exception("Flow triggers failed after execution %s ended", execution.pk)
        return
    if waiting:
        transaction.on_commit(partial(_flow_triggers_fire, execution, waiting))


@receiver(execution_changed, dispatch_uid="triggers-execution-changed")
def _execution_changed(sender: object, execution: Execution, **kwargs: Any) -> None:
    # RUNNING, PAUSED: only Flow triggers that list the state hear it (Kestra fires them as
    # the upstream enters the state, not at its end). As for an ending, in a savepoint.
    try:
        with transaction.atomic():
            if execution.state in (State.RUNNING, State.PAUSED):  # a Pause may come first
                sla_monitors_start(execution=execution)
            waiting = flow_triggers_waiting(execution=execution)
    except Exception:
        logger.exception(
            "Flow triggers failed after execution %s became %s", execution.pk, execution.state
        )
        return
    if waiting:
        # As it is now: the same transaction may move it on (RUNNING, then PAUSED).
        transaction.on_commit(partial(_flow_triggers_fire, copy.copy(execution), waiting))


def _flow_triggers_fire(execution: Execution, waiting: list[TriggerState]) -> None:
    try:
        flow_triggers_fire(execution=execution, waiting=waiting)
    except Exception:
        logger.exception("Flow triggers failed after execution %s ended", execution.pk)

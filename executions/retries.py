"""Kestra's ``retry`` with ``behavior: CREATE_NEW_EXECUTION``: when a task whose retry
(its own, or that of a flowable task around it) says so failed the execution, the
execution is replayed from that task into a new one, as long as ``maxAttempts`` allows
(counted along the replays). The replay starts at once: the interval is not waited."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from .lifecycle import NotAllowed, execution_replay
from .models import Execution, State
from .signals import execution_ended

logger = logging.getLogger(__name__)


@receiver(execution_ended, dispatch_uid="executions-retry-in-new-execution")
def _execution_ended(sender: object, execution: Execution, **kwargs: Any) -> None:
    if execution.state != State.FAILED:
        return
    definition = execution.flow_revision.definition
    for run in execution.task_runs.filter(state=State.FAILED).order_by("created_at"):
        task = definition.task_as_run(run.task_id)
        retry = task.retry
        if task.flowable or retry is None or retry.behavior != "CREATE_NEW_EXECUTION":
            continue
        if retry.max_attempts is not None and _attempts(execution) >= retry.max_attempts:
            return
        transaction.on_commit(partial(_replay, execution.pk, run.pk))
        return


def _attempts(execution: Execution) -> int:
    """How many executions the replays of ``execution`` count, itself included."""
    count, original = 1, execution.original_id or None
    while original and count < 1000:
        count += 1
        original = (
            Execution.objects.filter(pk=original).values_list("original_id", flat=True).first()
        )
    return count


def _replay(execution_id: str, task_run_id: str) -> None:
    try:
        replay = execution_replay(execution_id=execution_id, task_run_id=task_run_id)
    except NotAllowed:
        return
    except Exception:  # a retry that cannot start leaves the failure as it is
        logger.exception("Retrying execution %s in a new one failed", execution_id)
        return
    logger.info("Execution %s retried as execution %s", execution_id, replay.pk)

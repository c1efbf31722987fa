"""Enqueueing task runs for the workers. A job carries only the task run's id: the worker
re-reads everything and claims the run, so a duplicate delivery is harmless.

With the embedded default the queue is a table of Flowsite's own database (django-q2's
ORM broker): a job is then written in the transaction that created its task run, so it
exists exactly when the run does and costs no transaction of its own. With Redis the job
is sent once that transaction has committed, so that no worker looks for a run that is
not there yet.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import cache, partial

from django.db import transaction
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.tasks import async_task

JOB = "executions.jobs.run_task_run"


def enqueue_task_run(task_run_id: str) -> None:
    # timeout=-1: django-q2 must never cut a task off; tasks enforce their own timeout.
    async_task(JOB, task_run_id, timeout=-1, task_name=task_run_id, broker=_broker(os.getpid()))


def enqueue_in_transaction(task_run_ids: Iterable[str]) -> None:
    """Enqueue task runs that the current transaction creates, as part of it."""
    in_database = isinstance(_broker(os.getpid()), ORM)
    for pk in task_run_ids:
        if in_database:
            enqueue_task_run(pk)
        else:
            transaction.on_commit(partial(enqueue_task_run, pk))


@cache
def _broker(pid: int) -> Broker:
    # django-q2 builds a broker, and with Redis a connection, per call unless given one.
    # Keyed by pid: django-q2 forks its workers, which must not share a connection.
    return get_broker()

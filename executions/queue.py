"""Enqueueing task runs for the workers. A job carries only the task run's id: the worker
re-reads everything and claims the run, so a duplicate delivery is harmless."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import cache, partial

from django.db import transaction
from django_q.brokers import Broker, get_broker
from django_q.tasks import async_task

JOB = "executions.jobs.run_task_run"


def enqueue_task_run(task_run_id: str) -> None:
    # timeout=-1: django-q2 must never cut a task off; tasks enforce their own timeout.
    async_task(JOB, task_run_id, timeout=-1, task_name=task_run_id, broker=_broker(os.getpid()))


def enqueue_on_commit(task_run_ids: Iterable[str]) -> None:
    """Enqueue once the transaction that created these task runs commits."""
    for pk in task_run_ids:
        transaction.on_commit(partial(enqueue_task_run, pk))


@cache
def _broker(pid: int) -> Broker:
    # django-q2 builds a broker, and with Redis a connection, per call unless given one.
    # Keyed by pid: django-q2 forks its workers, which must not share a connection.
    return get_broker()

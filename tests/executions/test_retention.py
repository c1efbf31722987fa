"""Retention: with FLOWSITE_LOG_RETENTION_DAYS and FLOWSITE_EXECUTION_RETENTION_DAYS set,
the clock deletes the logs, then the executions, that ended longer ago, a bounded
moment at a time; what runs or ended recently stays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import AuditEntry
from benchmarks.log_api import log_lines_fill
from executions.models import Execution, LogLine, State, TaskRun
from executions.retention import retention_tick
from executions.storage import SCHEME, execution_uri_prefix, flowsite_storage
from tests.conftest import start_clock, wait_until
from tests.executions.helpers import make_execution

pytestmark = pytest.mark.django_db(transaction=True)

FLOW = """\
id: kept-a-while
namespace: dev
tasks:
  - id: talk
    type: io.kestra.plugin.core.log.Log
    message: hello
"""


def ended(days_ago: float, *, lines: int = 10, state: str = State.SUCCESS) -> Execution:
    """An execution that ended ``days_ago`` (or, RUNNING, started then), with ``lines``
    log lines and one stored file."""
    moment = timezone.now() - timedelta(days=days_ago)
    running = state == State.RUNNING
    execution = make_execution(
        FLOW,
        state=state,
        created_at=moment,
        started_at=moment,
        ended_at=None if running else moment,
    )
    task_run = TaskRun.objects.create(
        execution=execution, task_id="talk", path="talk", position=0, attempt=1
    )
    log_lines_fill(task_run, lines, at=moment)
    folder = execution_uri_prefix(execution)[len(SCHEME) :].rstrip("/")
    flowsite_storage().save(f"{folder}/talk/out.txt", ContentFile(b"kept?"))
    return execution


def lines_of(execution: Execution) -> int:
    return LogLine.objects.filter(execution=execution).count()


def file_of(execution: Execution) -> bool:
    folder = execution_uri_prefix(execution)[len(SCHEME) :].rstrip("/")
    return flowsite_storage().exists(f"{folder}/talk/out.txt")


@pytest.fixture
def retention(settings: Any) -> Any:
    settings.FLOWSITE_LOG_RETENTION_DAYS = 7
    settings.FLOWSITE_EXECUTION_RETENTION_DAYS = 30
    return settings


def test_it_deletes_old_logs_and_executions_and_keeps_recent_and_running_ones(
    retention,
) -> None:
    ancient = ended(40)
    failed_long_ago = ended(35, state=State.FAILED)
    last_month = ended(10)
    yesterday = ended(1)
    still_running = ended(40, state=State.RUNNING)

    counts = retention_tick(timezone.now())

    assert counts == {"executionsCount": 2, "logsCount": 30, "storagesCount": 2}
    assert not Execution.objects.filter(pk__in=[ancient.pk, failed_long_ago.pk]).exists()
    assert not file_of(ancient)
    assert lines_of(last_month) == 0 and file_of(last_month)  # its logs only
    assert lines_of(yesterday) == 10 and file_of(yesterday)
    assert lines_of(still_running) == 10 and file_of(still_running)
    [entry] = AuditEntry.objects.filter(action="purged")
    assert entry.namespace == "dev" and entry.actor is None
    assert entry.summary.startswith("Retention deleted 2 ended executions, 30 log lines")


def test_without_retention_settings_nothing_is_deleted() -> None:
    ancient = ended(400)

    assert retention_tick(timezone.now()) == {}

    assert lines_of(ancient) == 10 and file_of(ancient)


def test_a_huge_purge_goes_a_batch_at_a_time_and_ends_on_later_ticks(retention) -> None:
    ancient = ended(40, lines=12_000)

    first = retention_tick(timezone.now(), budget=timedelta(microseconds=1))

    # A batch for the executions' retention, a batch for the logs': the row waits.
    assert first == {"logsCount": 10_000, "storagesCount": 1}
    assert lines_of(ancient) == 2000 and Execution.objects.filter(pk=ancient.pk).exists()
    while Execution.objects.filter(pk=ancient.pk).exists():
        retention_tick(timezone.now(), budget=timedelta(microseconds=1))
    assert LogLine.objects.count() == 0


def test_the_clock_purges_on_its_sweep() -> None:
    ancient, last_month, yesterday = ended(40), ended(10), ended(1)

    clock = start_clock(FLOWSITE_LOG_RETENTION_DAYS="7", FLOWSITE_EXECUTION_RETENTION_DAYS="30")
    try:
        wait_until(
            lambda: (
                not Execution.objects.filter(pk=ancient.pk).exists() and lines_of(last_month) == 0
            ),
            what="the clock's retention purge",
        )
    finally:
        clock.stop()

    assert lines_of(yesterday) == 10
    assert AuditEntry.objects.filter(action="purged", namespace="dev").exists()

"""A kill and a worker's claim of the same execution at the same moment: both take the
execution's row before its task runs', so neither waits on the other in a circle."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from executions.jobs import task_run_execute
from executions.lifecycle import execution_kill, execution_start
from executions.models import Execution, LogLine, State, TaskRun
from executions.planner import execution_locked
from flows.models import Flow
from tests.conftest import wait_until
from tests.flows_helpers import PROCESS, flow_yaml

pytestmark = pytest.mark.django_db(transaction=True)

ECHO_YAML = flow_yaml(
    f"""\
    - id: say
      type: io.kestra.plugin.scripts.shell.Commands
      taskRunner: {{type: {PROCESS}}}
      commands: [echo ran]
    """,
    flow_id="raced",
)


def _a_query_waits_for_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh inside a transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])


def test_a_kill_during_a_workers_claim_ends_the_execution_killed_without_a_deadlock() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes its one write lock per transaction: no row locks to cross")
    execution = execution_start(flow=Flow.save_source(ECHO_YAML))
    run = TaskRun.objects.get(execution=execution)
    errors: list[BaseException] = []
    ready: list[list[str]] = []
    locked = threading.Event()

    def kill() -> None:
        try:
            with transaction.atomic():
                execution_locked(execution.pk)  # as the kill does, first
                locked.set()
                wait_until(_a_query_waits_for_a_lock, timeout=10, what="the worker to wait")
                time.sleep(0.2)  # the worker's claim has gone as far as it can
                execution_kill(execution_id=execution.pk)
        except BaseException as exc:  # a deadlock PostgreSQL broke by failing us
            errors.append(exc)
        finally:
            connections.close_all()

    def work() -> None:
        locked.wait(10)
        try:
            ready.append(task_run_execute(task_run_id=run.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=kill), threading.Thread(target=work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert ready == [[]]  # the worker found its run killed and did not run it
    run.refresh_from_db()
    assert (run.state, run.attempt) == (State.KILLED, 0)
    assert Execution.objects.get(pk=execution.pk).state == State.KILLED
    assert not LogLine.objects.filter(execution=execution, message="ran").exists()

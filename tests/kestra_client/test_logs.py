"""kestrapy's log calls: an execution's lines narrowed by minLevel, taskRunId, taskId
and attempt; the same as a text download; and a search across executions."""

from __future__ import annotations

import threading

import pytest
from kestrapy.exceptions import BadRequestException

from executions.models import Execution
from flows.models import Flow
from tests.conftest import wait_until
from tests.flows_helpers import PROCESS, finished
from tests.kestra_client.conftest import TENANT, body_of, where

pytestmark = pytest.mark.django_db(transaction=True)

# A DEBUG line, then a script that fails its first attempt and writes one line each time.
CHATTY = f"""\
id: chatty
namespace: dev
tasks:
  - id: announce
    type: io.kestra.plugin.core.log.Log
    message: Starting
    level: DEBUG
  - id: work
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner: {{type: {PROCESS}}}
    commands:
      - echo try {{{{ taskrun.attemptsCount }}}}
      - 'test "{{{{ taskrun.attemptsCount }}}}" -ge 1'
    retry: {{type: constant, interval: PT0.1S, maxAttempts: 3}}
"""

WAITS = """\
id: waits
namespace: dev
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: before
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
  - id: then
    type: io.kestra.plugin.core.log.Log
    message: after
"""


@pytest.fixture
def chatty(kestra, worker) -> Execution:
    Flow.save_source(CHATTY)
    started = kestra.executions.create_execution(TENANT, "dev", "chatty")
    return finished(Execution.objects.get(pk=started.id))


def test_it_lists_an_execution_s_lines_in_order(kestra, chatty) -> None:
    lines = kestra.logs.list_logs_from_execution(chatty.pk, TENANT)

    messages = [(line.task_id, line.message) for line in lines]
    assert messages[0] == ("announce", "Starting")
    assert ("work", "try 0") in messages and ("work", "try 1") in messages
    assert {line.execution_id for line in lines} == {chatty.pk}
    assert {line.namespace for line in lines} == {"dev"}


def test_it_narrows_the_lines_by_level_task_run_task_and_attempt(kestra, chatty) -> None:
    work = chatty.task_runs.get(task_id="work")

    at_least_info = kestra.logs.list_logs_from_execution(chatty.pk, TENANT, min_level="INFO")
    of_run = kestra.logs.list_logs_from_execution(chatty.pk, TENANT, task_run_id=work.pk)
    of_task = kestra.logs.list_logs_from_execution(chatty.pk, TENANT, task_id="announce")
    second = kestra.logs.list_logs_from_execution(chatty.pk, TENANT, task_id="work", attempt=1)

    assert "Starting" not in [line.message for line in at_least_info]
    assert {line.task_id for line in of_run} == {"work"}
    assert [line.message for line in of_task] == ["Starting"]
    assert "try 1" in [line.message for line in second]
    assert "try 0" not in [line.message for line in second]
    assert {line.attempt_number for line in second} == {1}


def test_it_downloads_the_lines_as_text(kestra, chatty) -> None:
    text = kestra.logs.download_logs_from_execution(chatty.pk, TENANT)

    rows = text.splitlines()
    assert rows[0].endswith("DEBUG Starting")
    assert any(row.endswith("INFO try 1") for row in rows)


def test_it_searches_lines_across_the_executions_one_may_see(
    kestra, kestra_charlie, chatty
) -> None:
    by_task = kestra.logs.search_logs(
        TENANT,
        size=50,
        filters=[
            where("namespace", "EQUALS", "dev"),
            where("taskId", "EQUALS", "announce"),
        ],
    )
    by_text = kestra.logs.search_logs(TENANT, filters=[where("q", "EQUALS", "try 1")])
    by_level = kestra.logs.search_logs(TENANT, size=100, filters=[where("level", "EQUALS", "INFO")])
    charlie = kestra_charlie.logs.search_logs(TENANT)

    assert [(line.task_id, line.message) for line in by_task.results] == [("announce", "Starting")]
    assert [line.message for line in by_text.results] == ["try 1"]
    assert by_level.total > 0 and "DEBUG" not in {line.level for line in by_level.results}
    assert (charlie.total, charlie.results) == (0, [])


def test_a_level_that_is_not_one_is_refused(kestra, chatty) -> None:
    with pytest.raises(BadRequestException) as refused:
        kestra.logs.list_logs_from_execution(chatty.pk, TENANT, min_level="LOUD")

    assert "minLevel" in body_of(refused)


def test_follow_streams_the_lines_of_an_ended_execution_then_stops(kestra, chatty) -> None:
    followed = list(kestra.logs.follow_logs_from_execution(chatty.pk, TENANT))
    listed = kestra.logs.list_logs_from_execution(chatty.pk, TENANT)

    assert [line.message for line in followed] == [line.message for line in listed]


def test_follow_streams_lines_as_they_are_written(kestra, worker) -> None:
    Flow.save_source(WAITS)
    started = kestra.executions.create_execution(TENANT, "dev", "waits")
    wait_until(lambda: Execution.objects.filter(pk=started.id, state="PAUSED").exists())

    seen = []
    for line in kestra.logs.follow_logs_from_execution(started.id, TENANT, min_level="INFO"):
        seen.append(line.message)
        if line.message == "before":  # resumed from elsewhere while the stream is open
            threading.Thread(
                target=kestra.executions.resume_execution, args=(started.id, TENANT)
            ).start()

    assert seen[0] == "before"
    assert "after" in seen

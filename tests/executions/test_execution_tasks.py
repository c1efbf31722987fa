"""debug.Echo, log.Fetch, execution.Labels, log.PurgeLogs and execution.PurgeExecutions on
a real worker: Kestra's properties and outputs, and each bounded by the namespace of the
execution that runs it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from executions.lifecycle import execution_start
from executions.models import Execution, LogLine, State, TaskRun
from executions.storage import storage_read
from tests.flows_helpers import PROCESS, finished, messages, own_labels, save_flow

pytestmark = pytest.mark.django_db(transaction=True)


def run(tasks: str, *, flow_id: str, namespace: str = "company.team", **kwargs) -> Execution:
    source = f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n{tasks}"
    return finished(execution_start(flow=save_flow(source), **kwargs))


def task(execution: Execution, task_id: str) -> TaskRun:
    return execution.task_runs.get(task_id=task_id)


def levels_and_messages(execution: Execution) -> list[tuple[str, str]]:
    return list(
        LogLine.objects.filter(execution=execution).order_by("id").values_list("level", "message")
    )


def test_echo_logs_its_rendered_format_at_its_level(worker) -> None:
    execution = run(
        """
  - id: hello
    type: io.kestra.plugin.core.debug.Echo
    format: "{{ task.id }} of {{ flow.id }}"
    level: WARN
  - id: older
    type: io.kestra.core.tasks.debugs.Echo
    format: plain
""",
        flow_id="echoes",
    )
    assert execution.state == State.SUCCESS
    assert ("WARN", "hello of echoes") in levels_and_messages(execution)
    assert ("INFO", "plain") in levels_and_messages(execution)


def test_fetch_stores_the_logs_at_or_above_a_level_of_chosen_tasks(worker) -> None:
    execution = run(
        """
  - id: chatty
    type: io.kestra.plugin.core.log.Log
    message: ["a debug line", "an info line"]
    level: DEBUG
  - id: warned
    type: io.kestra.plugin.core.log.Log
    message: disk almost full
    level: WARN
  - id: other
    type: io.kestra.plugin.core.log.Log
    message: not fetched
    level: ERROR
  - id: everything
    type: io.kestra.plugin.core.log.Fetch
    level: DEBUG
  - id: warnings
    type: io.kestra.core.tasks.log.Fetch
    level: WARN
    tasksId: [warned, chatty]
""",
        flow_id="fetch-logs",
    )
    assert execution.state == State.SUCCESS, messages(execution)
    everything = task(execution, "everything").outputs
    rows = [json.loads(line) for line in storage_read(everything["uri"]).splitlines()]
    assert everything["size"] == len(rows) >= 4
    assert [row["message"] for row in rows[:2]] == ["a debug line", "an info line"]
    assert rows[0]["executionId"] == execution.pk and rows[0]["flowId"] == "fetch-logs"
    assert rows[0]["namespace"] == "company.team" and rows[0]["level"] == "DEBUG"
    warnings = task(execution, "warnings").outputs
    assert warnings["uri"].endswith(".ion")
    fetched = [json.loads(line) for line in storage_read(warnings["uri"]).splitlines()]
    assert [(row["taskId"], row["message"]) for row in fetched] == [("warned", "disk almost full")]
    assert warnings["size"] == 1


def test_fetch_reads_another_execution_it_reaches_and_refuses_one_it_does_not(worker) -> None:
    earlier = run(
        "  - id: say\n    type: io.kestra.plugin.core.log.Log\n    message: from before\n",
        flow_id="fetch-source",
    )
    foreign = run(
        "  - id: say\n    type: io.kestra.plugin.core.log.Log\n    message: private\n",
        flow_id="fetch-source",
        namespace="other.team",
    )
    execution = run(
        f"""
  - id: same_namespace
    type: io.kestra.plugin.core.log.Fetch
    namespace: company.team
    flowId: fetch-source
    executionId: {earlier.pk}
  - id: other_namespace
    type: io.kestra.plugin.core.log.Fetch
    namespace: other.team
    flowId: fetch-source
    executionId: {foreign.pk}
    allowFailure: true
""",
        flow_id="fetch-elsewhere",
    )
    same = task(execution, "same_namespace").outputs
    assert [json.loads(line)["message"] for line in storage_read(same["uri"]).splitlines()] == [
        "from before"
    ]
    refused = task(execution, "other_namespace")
    assert refused.state == State.FAILED
    assert "namespace company.team may not read logs of other.team" in refused.error


def test_labels_are_set_on_the_running_execution_from_a_map_or_a_list(worker) -> None:
    execution = run(
        """
  - id: by_map
    type: io.kestra.plugin.core.execution.Labels
    labels:
      customer: "{{ flow.id }}"
      priority: 2
  - id: by_list
    type: io.kestra.core.tasks.executions.Labels
    labels:
      - key: priority
        value: high
      - key: region
        value: eu
  - id: read
    type: io.kestra.plugin.core.log.Log
    message: "{{ labels.customer }} {{ labels.priority }} {{ labels.region }} {{ labels.kept }}"
""",
        flow_id="labelled",
        labels={"kept": "yes"},
    )
    assert execution.state == State.SUCCESS, messages(execution)
    assert own_labels(execution) == {
        "kept": "yes",
        "customer": "labelled",
        "priority": "high",
        "region": "eu",
    }
    assert "labelled high eu yes" in messages(execution)


def test_a_system_label_is_refused(worker) -> None:
    execution = run(
        "  - id: sneaky\n    type: io.kestra.plugin.core.execution.Labels\n"
        "    labels:\n      system.correlationId: forged\n",
        flow_id="system-label",
    )
    assert execution.state == State.FAILED
    assert "System labels can only be set by Flowsite" in task(execution, "sneaky").error
    assert execution.labels["system.correlationId"] != "forged"  # Flowsite's own stays


def aged(execution: Execution, days: int) -> Execution:
    """Move an ended execution and its log lines ``days`` into the past."""
    then = timezone.now() - timedelta(days=days)
    Execution.objects.filter(pk=execution.pk).update(created_at=then)
    LogLine.objects.filter(execution=execution).update(timestamp=then)
    return execution


def with_file(flow_id: str, namespace: str = "company.team") -> Execution:
    """An ended execution with a log line and a stored file."""
    return run(
        f"  - id: export\n    type: io.kestra.plugin.scripts.shell.Commands\n"
        f"    taskRunner:\n      type: {PROCESS}\n    outputFiles: ['out.txt']\n"
        "    commands:\n      - echo exporting\n      - echo kept > out.txt\n",
        flow_id=flow_id,
        namespace=namespace,
    )


def test_purge_logs_deletes_old_lines_of_its_own_namespace_only(worker) -> None:
    old = aged(with_file("old-chatter"), days=40)
    inner = aged(with_file("old-chatter", namespace="company.team.inner"), days=40)
    recent = with_file("new-chatter")
    foreign = aged(with_file("old-chatter", namespace="company.other"), days=40)
    execution = run(
        """
  - id: purge
    type: io.kestra.plugin.core.log.PurgeLogs
    endDate: "{{ now() | dateAdd(-30, 'DAYS') }}"
  - id: outside
    type: io.kestra.plugin.core.log.PurgeLogs
    namespace: company.other
    endDate: "{{ now() }}"
    allowFailure: true
""",
        flow_id="purge-logs",
    )
    purged = task(execution, "purge")
    assert purged.state == State.SUCCESS, messages(execution)
    assert purged.outputs["count"] >= 2
    assert not LogLine.objects.filter(execution__in=[old, inner]).exists()
    assert LogLine.objects.filter(execution=recent).exists()
    assert LogLine.objects.filter(execution=foreign).exists()
    outside = task(execution, "outside")
    assert outside.state == State.FAILED
    assert "namespace company.team may not purge company.other" in outside.error


def test_purge_executions_deletes_old_ended_executions_with_their_logs_and_files(worker) -> None:
    old = aged(with_file("old-runs"), days=40)
    old_failed = aged(run("  - id: f\n    type: io.kestra.plugin.core.execution.Fail\n",
                          flow_id="old-runs"), days=40)  # fmt: skip
    recent = with_file("old-runs")
    foreign = aged(with_file("old-runs", namespace="company.other"), days=40)
    old_file = task(old, "export").outputs["outputFiles"]["out.txt"]
    execution = run(
        """
  - id: purge
    type: io.kestra.plugin.core.execution.PurgeExecutions
    namespace: company.team
    flowId: old-runs
    endDate: "{{ now() | dateAdd(-30, 'DAYS') }}"
    states: [SUCCESS]
  - id: parent_namespace
    type: io.kestra.core.tasks.storages.Purge
    namespace: company
    endDate: "{{ now() }}"
    allowFailure: true
""",
        flow_id="purge-executions",
    )
    outputs = task(execution, "purge").outputs
    assert outputs == {
        "executionsCount": 1,
        "logsCount": outputs["logsCount"],
        "storagesCount": 1,
        "metricsCount": 0,
    }
    assert outputs["logsCount"] >= 1
    assert not Execution.objects.filter(pk=old.pk).exists()
    assert not LogLine.objects.filter(execution_id=old.pk).exists()
    with pytest.raises(FileNotFoundError):
        storage_read(old_file)
    # Not SUCCESS, too recent, or another namespace's: kept.
    assert Execution.objects.filter(pk__in=[old_failed.pk, recent.pk, foreign.pk]).count() == 3
    refused = task(execution, "parent_namespace")
    assert refused.state == State.FAILED
    assert "may not purge company" in refused.error
    [entry] = AuditEntry.objects.filter(action="purged")
    assert entry.namespace == "company.team" and entry.object_id == execution.pk
    assert entry.summary.startswith("PurgeExecutions deleted 1 executions")


def test_a_purge_never_deletes_the_execution_running_it(worker) -> None:
    execution = run(
        """
  - id: purge
    type: io.kestra.plugin.core.execution.PurgeExecutions
    endDate: "{{ now() | dateAdd(1, 'DAYS') }}"
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: still here
""",
        flow_id="self-purge",
    )
    assert execution.state == State.SUCCESS
    assert "still here" in messages(execution)


def test_a_purge_with_a_date_that_is_not_one_fails_naming_it(worker) -> None:
    execution = run(
        "  - id: purge\n    type: io.kestra.plugin.core.log.PurgeLogs\n    endDate: yesterday\n",
        flow_id="bad-date",
    )
    assert execution.state == State.FAILED
    assert "endDate 'yesterday' is not an ISO-8601 date" in task(execution, "purge").error


def test_fetch_counts_the_lines_of_every_task_before_it_as_kestra_does(worker) -> None:
    execution = run(
        """
  - id: first
    type: io.kestra.plugin.core.debug.Echo
    format: one
  - id: second
    type: io.kestra.plugin.core.debug.Echo
    format: two
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.1S
  - id: all_lines
    type: io.kestra.plugin.core.log.Fetch
    executionId: "{{ execution.id }}"
  - id: first_only
    type: io.kestra.plugin.core.log.Fetch
    tasksId: [first]
""",
        flow_id="fetch-counts",
    )
    assert execution.state == State.SUCCESS, messages(execution)
    assert task(execution, "all_lines").outputs["size"] == 3  # one, two, "Waiting for PT0.1S"
    assert task(execution, "first_only").outputs["size"] == 1


def test_labels_take_rendered_keys_json_text_and_typed_inputs_as_text(worker) -> None:
    source = """id: typed-labels
namespace: company.team
labels:
  team: data
  stage: draft
inputs:
  - id: extra
    type: JSON
  - id: key
    type: STRING
  - id: retries
    type: INT
  - id: ratio
    type: FLOAT
  - id: urgent
    type: BOOLEAN
tasks:
  - id: from_json
    type: io.kestra.plugin.core.execution.Labels
    labels: "{{ inputs.extra }}"
  - id: from_keys
    type: io.kestra.plugin.core.execution.Labels
    labels:
      "{{ inputs.key }}": "{{ inputs.retries }}"
      ratio: "{{ inputs.ratio }}"
      urgent: "{{ inputs.urgent }}"
      stage: "{{ flow.namespace ~ '/' ~ flow.id }}"
"""
    inputs = {"extra": '{"origin": "api"}', "key": "retries", "retries": 3, "ratio": 0.5,
              "urgent": True}  # fmt: skip
    execution = finished(execution_start(flow=save_flow(source), inputs=inputs))
    assert execution.state == State.SUCCESS, messages(execution)
    assert own_labels(execution) == {
        "team": "data",
        "stage": "company.team/typed-labels",
        "origin": "api",
        "retries": "3",
        "ratio": "0.5",
        "urgent": "true",
    }

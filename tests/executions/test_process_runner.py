"""Runs through the Process runner, driven by the real worker job in this process."""

from __future__ import annotations

import pytest

from executions.models import State
from tests.flows_helpers import (
    PROCESS,
    ended,
    flow_yaml,
    messages,
    run_here,
    save_flow,
    started,
)

pytestmark = pytest.mark.django_db


def shell(commands: str, *, task_id: str = "t", extra: str = "") -> str:
    return (
        f"  - id: {task_id}\n    type: io.kestra.plugin.scripts.shell.Commands\n"
        f"    taskRunner:\n      type: {PROCESS}\n{extra}    commands:\n{commands}"
    )


def test_a_python_script_prints_and_succeeds() -> None:
    source = flow_yaml(
        f"  - id: hi\n    type: python.Script\n    taskRunner:\n      type: {PROCESS}\n"
        "    script: |\n      import sys\n      print('Hello World', sys.version_info[0])\n"
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["Hello World 3"]
    run = execution.task_runs.get()
    assert (run.state, run.exit_code, run.attempt) == (State.SUCCESS, 0, 1)
    assert started(run) <= ended(run)


def test_an_outputs_line_sets_outputs_and_is_not_logged() -> None:
    commands = (
        '      - echo before\n      - \'echo \'\'::{"outputs": {"rows": 3, "name": "x"}}::\'\'\'\n'
    )
    execution = run_here(save_flow(flow_yaml(shell(commands))))
    assert execution.task_runs.get().outputs == {"exitCode": 0, "vars": {"rows": 3, "name": "x"}}
    assert messages(execution) == ["before"]


def test_a_non_zero_exit_fails_the_execution_and_stops_the_flow() -> None:
    tasks = shell("      - echo going\n      - exit 3\n      - echo never\n", task_id="a") + shell(
        "      - echo not reached\n", task_id="b"
    )
    execution = run_here(save_flow(flow_yaml(tasks)))
    assert execution.state == State.FAILED
    [run] = execution.task_runs.all()
    assert (run.task_id, run.state, run.exit_code) == ("a", State.FAILED, 3)
    assert "Command failed with exit code 3" in messages(execution)
    assert "never" not in messages(execution)


def test_stderr_output_gives_warning_and_is_kept_apart_from_stdout() -> None:
    execution = run_here(save_flow(flow_yaml(shell("      - echo out\n      - echo err >&2\n"))))
    assert execution.state == State.WARNING
    assert messages(execution, "stdout") == ["out"]
    assert messages(execution, "stderr") == ["err"]


def test_stderr_is_only_logged_when_warning_on_std_err_is_false() -> None:
    source = flow_yaml(shell("      - echo err >&2\n", extra="    warningOnStdErr: false\n"))
    assert run_here(save_flow(source)).state == State.SUCCESS


def test_a_task_longer_than_its_timeout_is_stopped_and_fails() -> None:
    source = flow_yaml(shell("      - echo start\n      - sleep 30\n", extra="    timeout: PT1S\n"))
    execution = run_here(save_flow(source))
    assert execution.state == State.FAILED
    assert (
        "Task exceeded its timeout of 1 s and was stopped: sent SIGTERM, SIGKILL in 10 s"
        in messages(execution)
    )


def test_env_before_commands_and_an_own_working_directory() -> None:
    extra = (
        "    env:\n      GREETING: hello\n    beforeCommands:\n      - echo prepared > note.txt\n"
    )
    commands = "      - cat note.txt\n      - echo $GREETING\n      - pwd\n"
    execution = run_here(save_flow(flow_yaml(shell(commands, extra=extra))))
    lines = messages(execution)
    assert lines[:2] == ["prepared", "hello"]
    assert lines[2].endswith(execution.task_runs.get().pk)


def test_python_tasks_get_their_own_environment_not_flowsites() -> None:
    source = flow_yaml(
        f"  - id: hi\n    type: python.Commands\n    taskRunner:\n      type: {PROCESS}\n"
        "    commands:\n      - python -c 'import sys; print(sys.prefix)'\n"
        "      - python -c 'import django' || echo no django here\n"
    )
    lines = messages(run_here(save_flow(source)))
    assert lines[0].endswith("venvs/process")
    assert "no django here" in lines


def test_log_tasks_write_their_messages_at_their_level() -> None:
    source = flow_yaml("  - id: l\n    type: Log\n    level: WARN\n    message: [one, two]\n")
    execution = run_here(save_flow(source))
    assert execution.state == State.SUCCESS
    assert list(execution.log_lines.values_list("message", "level")) == [
        ("one", "WARN"),
        ("two", "WARN"),
    ]


def test_tasks_run_in_order_and_a_disabled_task_is_skipped() -> None:
    tasks = (
        shell("      - echo first\n", task_id="a")
        + shell("      - echo skipped\n", task_id="b", extra="    disabled: true\n")
        + shell("      - echo third\n", task_id="c")
    )
    execution = run_here(save_flow(flow_yaml(tasks)))
    assert messages(execution) == ["first", "third"]
    assert list(execution.task_runs.values_list("task_id", flat=True)) == ["a", "c"]


def test_a_job_delivered_twice_in_a_row_runs_its_task_once() -> None:
    from executions.jobs import run_task_run
    from executions.lifecycle import execution_start

    execution = execution_start(flow=save_flow(flow_yaml(shell("      - echo ran\n"))))
    task_run = execution.task_runs.get()
    run_task_run(task_run.pk)
    run_task_run(task_run.pk)
    task_run.refresh_from_db()
    assert messages(execution) == ["ran"] and task_run.attempt == 1

"""Two Kestra behaviours on a real worker: a Subflow task's own ``outputs:`` map, rendered
in its child's context once the child ended; and ``kestra:///`` URIs in a script's
commands, which become local files of its working directory (Docker and Process)."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_start
from executions.models import Execution, State, TaskRun
from tests.flows_helpers import PROCESS, finished, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

DOCKER = "io.kestra.plugin.scripts.runner.docker.Docker"


def run(source: str) -> Execution:
    return finished(execution_start(flow=save_flow(source)))


def task(execution: Execution, task_id: str) -> TaskRun:
    return execution.task_runs.get(task_id=task_id)


CHILD = """
id: quiet-child
namespace: company.team
inputs:
  - id: who
    type: STRING
tasks:
  - id: answer
    type: io.kestra.plugin.core.debug.Return
    format: "hello {{ inputs.who }}"
"""


def parent(outputs: str, flow_id: str = "picky-parent", child: str = "quiet-child") -> str:
    return f"""
id: {flow_id}
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: {child}
    inputs:
      who: world
    outputs:
{outputs}
  - id: use
    type: io.kestra.plugin.core.log.Log
    message: "picked {{{{ outputs.call.outputs }}}}"
"""


def test_a_subflow_picks_its_childs_values_with_its_own_outputs_map(worker) -> None:
    save_flow(CHILD)
    execution = run(
        parent('      greeting: "{{ outputs.answer.value }}"\n      who: "{{ inputs.who }}"')
    )
    assert execution.state == State.SUCCESS, messages(execution)
    call = task(execution, "call").outputs
    assert call["outputs"] == {"greeting": "hello world", "who": "world"}
    assert call["state"] == "SUCCESS"
    assert any("hello world" in line for line in messages(execution))


def test_a_child_flows_declared_outputs_take_precedence(worker) -> None:
    save_flow(
        CHILD.replace("quiet-child", "declaring-child")
        + 'outputs:\n  - id: declared\n    type: STRING\n    value: "{{ outputs.answer.value }}"\n'
    )
    execution = run(
        parent('      ignored: "x"', flow_id="declared-parent", child="declaring-child")
    )
    assert execution.state == State.SUCCESS, messages(execution)
    assert task(execution, "call").outputs["outputs"] == {"declared": "hello world"}


def test_a_subflow_output_that_cannot_be_rendered_fails_the_subflow_task(worker) -> None:
    save_flow(CHILD)
    execution = run(parent('      broken: "{{ outputs.nothing.value }}"', flow_id="broken-parent"))
    assert execution.state == State.FAILED
    call = task(execution, "call")
    assert call.state == State.FAILED
    assert "its outputs could not be rendered" in call.error
    assert call.outputs["executionId"]


def commands_flow(flow_id: str, runner: str) -> str:
    return f"""
id: {flow_id}
namespace: company.team
tasks:
  - id: export
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: python:3.11-slim
    taskRunner:
      type: {runner}
    outputFiles: ["cities.csv"]
    commands:
      - printf 'city\\nParis\\nOslo\\n' > cities.csv
  - id: count
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: python:3.11-slim
    taskRunner:
      type: {runner}
    commands:
      - echo "path={{{{ outputs.export.outputFiles['cities.csv'] }}}}"
      - echo "rows=$(tail -n +2 {{{{ outputs.export.outputFiles['cities.csv'] }}}} | wc -l)"
"""


def test_a_stored_file_named_in_process_commands_is_a_local_file(worker) -> None:
    execution = run(commands_flow("local-files-process", PROCESS))
    assert execution.state == State.SUCCESS, messages(execution)
    lines = messages(execution)
    assert "rows=2" in lines
    paths = [line for line in lines if line.startswith("path=")]
    assert paths and all("kestra:" not in line for line in paths)
    assert paths[0].endswith("/cities.csv")


@pytest.mark.docker
def test_a_stored_file_named_in_container_commands_is_a_local_file(worker, docker_engine) -> None:
    execution = run(commands_flow("local-files-docker", DOCKER))
    assert execution.state == State.SUCCESS, messages(execution)
    assert "rows=2" in messages(execution)


def test_a_command_cannot_copy_a_file_of_a_namespace_it_does_not_reach(worker) -> None:
    foreign = run(commands_flow("foreign-files", PROCESS).replace("company.team", "other.team"))
    uri = task(foreign, "export").outputs["outputFiles"]["cities.csv"]
    execution = run(
        "id: thief\nnamespace: company.team\ntasks:\n"
        f"  - id: steal\n    type: io.kestra.plugin.scripts.shell.Commands\n"
        f"    taskRunner:\n      type: {PROCESS}\n    commands:\n      - cat {uri}\n"
    )
    assert execution.state == State.FAILED
    steal = task(execution, "steal")
    assert "namespace company.team may not read files of other.team" in steal.error
    assert "Paris" not in "\n".join(messages(execution))


def test_a_child_that_ends_at_once_still_gets_its_outputs_map_rendered(worker) -> None:
    busy = save_flow(
        "id: one-at-a-time\nnamespace: company.team\n"
        "concurrency:\n  limit: 1\n  behavior: CANCEL\n"
        "tasks:\n  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n"
    )
    holder = execution_start(flow=busy)
    execution = run(
        """
id: turned-away
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: one-at-a-time
    transmitFailed: false
    outputs:
      ended_as: "{{ execution.state }}"
"""
    )
    assert holder.pk != task(execution, "call").outputs["executionId"]
    assert execution.state == State.SUCCESS, messages(execution)
    assert task(execution, "call").outputs["outputs"] == {"ended_as": "CANCELLED"}

"""WorkingDirectory on a real worker: a file one task writes is there for the next, on
the Process runner, on Docker, and from one to the other; the directory starts with its
``inputFiles`` and hands back its ``outputFiles``."""

from __future__ import annotations

import uuid

import pytest

from executions.lifecycle import execution_start
from executions.models import Execution, State, TaskRun
from executions.storage import storage_read
from flows.language import FlowInvalid, parse_flow
from tests.flows_helpers import PROCESS, finished, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

SHELL = "io.kestra.plugin.scripts.shell.Commands"


def run(source: str) -> Execution:
    return finished(execution_start(flow=save_flow(source)), timeout=120)


def stdout(execution: Execution) -> list[str]:
    return messages(execution, stream="stdout")


def test_tasks_share_their_directory_on_the_process_runner(worker) -> None:
    execution = run(f"""
id: workdir-process
namespace: dev
tasks:
  - id: shared
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      seed.txt: "from the start\\n"
    outputFiles: ["out/*.txt"]
    tasks:
      - id: write
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands:
          - mkdir -p out
          - cat seed.txt > out/first.txt
          - echo written >> out/first.txt
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: between
      - id: read
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands:
          - cat out/first.txt
          - echo again > out/second.txt
""")
    assert execution.state == State.SUCCESS
    assert stdout(execution) == ["from the start", "written"]
    shared = TaskRun.objects.get(execution=execution, task_id="shared")
    kept = shared.outputs["outputFiles"]
    assert sorted(kept) == ["out/first.txt", "out/second.txt"]
    assert storage_read(kept["out/second.txt"]) == b"again\n"


def test_a_file_written_in_docker_is_read_by_the_process_runner_and_back(
    worker, docker_engine
) -> None:
    execution = run(f"""
id: workdir-docker
namespace: dev
tasks:
  - id: shared
    type: io.kestra.core.tasks.flows.WorkingDirectory
    tasks:
      - id: in_docker
        type: {SHELL}
        containerImage: python:3.11-slim
        commands:
          - echo "made in a container" > note.txt
      - id: on_host
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands:
          - cat note.txt
          - echo "and on the host" >> note.txt
      - id: docker_again
        type: {SHELL}
        taskRunner: {{type: io.kestra.plugin.scripts.runner.docker.Docker}}
        containerImage: python:3.11-slim
        commands:
          - cat note.txt
""")
    assert execution.state == State.SUCCESS
    # Seen once with two lines too many under a loaded suite: say whose they were.
    assert stdout(execution) == [
        "made in a container",
        "made in a container",
        "and on the host",
    ], list(execution.log_lines.values_list("task_id", "attempt", "stream", "message"))


def test_two_working_directories_do_not_see_each_others_files(worker) -> None:
    execution = run(f"""
id: workdir-apart
namespace: dev
tasks:
  - id: one
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: write
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands: ["echo mine > private.txt"]
  - id: two
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: look
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands: ["test ! -e private.txt && echo clean"]
""")
    assert execution.state == State.SUCCESS
    assert stdout(execution) == ["clean"]


def test_a_working_directory_refuses_an_output_pattern_that_leaves_it() -> None:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(f"""id: bad
namespace: dev
tasks:
  - id: shared
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["../escape.txt"]
    tasks:
      - {{id: a, type: {SHELL}, commands: [echo]}}
""")
    assert any(error.line == 6 for error in caught.value.errors)


CACHED = """
id: workdir-cache-{unique}
namespace: dev
tasks:
  - id: shared
    type: io.kestra.plugin.core.flow.WorkingDirectory
    cache:
      patterns: ["deps/**"]
      ttl: PT1H
    tasks:
      - id: install
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner: {{type: io.kestra.plugin.core.runner.Process}}
        commands:
          - 'if [ -f deps/lib.txt ]; then echo "cached $(cat deps/lib.txt)"; else mkdir -p deps; echo "{{{{ execution.id }}}}" > deps/lib.txt; echo installed; fi'
"""


def test_a_cache_carries_its_files_to_the_next_execution_of_the_flow(worker) -> None:
    # The storage outlives the test database: a flow of its own starts with no cache.
    source = CACHED.format(unique=uuid.uuid4().hex[:12])
    first = run(source)
    assert stdout(first) == ["installed"]
    second = run(source)
    assert second.state == State.SUCCESS
    assert stdout(second) == [f"cached {first.pk}"]


def test_local_files_put_files_in_the_directory_and_keep_the_ones_asked_for(worker) -> None:
    execution = run(f"""
id: workdir-local-files
namespace: dev
tasks:
  - id: shared
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: put
        type: io.kestra.core.tasks.storages.LocalFiles
        inputs:
          config.txt: "mode={{{{ flow.id }}}}"
      - id: use
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands: ["cat config.txt > result.txt"]
      - id: take
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs: ["*.txt"]
""")
    assert execution.state == State.SUCCESS
    take = TaskRun.objects.get(execution=execution, task_id="take")
    assert sorted(take.outputs["uris"]) == ["config.txt", "result.txt"]
    assert storage_read(take.outputs["uris"]["result.txt"]) == b"mode=workdir-local-files"

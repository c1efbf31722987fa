"""bob, an Editor of company.data, aims the flowable tasks at alice's dev: a ForEachItem
over a dev file, a WorkingDirectory whose inputFiles name one, a ForEachItem calling a
dev flow. Each is refused on a real worker, as read() and inputFiles are elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from executions.models import Execution, State

from .helpers import REFUSAL, alice_runs_dev_target, bob_runs, bob_saves, failure

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(alice: Any, bob: Any) -> None:
    """alice (Admin of dev) and bob (Editor of company.data)."""


def test_bob_cannot_cut_a_dev_file_into_batches(worker, people) -> None:
    uri = alice_runs_dev_target(with_file=b"one\ntwo\n").inputs["doc"]
    execution = bob_runs(
        bob_saves(f"""id: splitter
namespace: company.data
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{uri}"
    namespace: company.data
    flowId: splitter
""")
    )
    assert execution.state == State.FAILED
    assert (
        "items refused: namespace company.data may not read files of dev; " + REFUSAL
    ) in failure(execution)
    assert not Execution.objects.filter(parent_task_run__execution=execution).exists()


def test_bob_cannot_seed_a_working_directory_with_a_dev_file(worker, people) -> None:
    uri = alice_runs_dev_target(with_file=b"alice's private notes").inputs["doc"]
    execution = bob_runs(
        bob_saves(f"""id: seeder
namespace: company.data
tasks:
  - id: shared
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      notes.txt: "{uri}"
    tasks:
      - id: show
        type: io.kestra.plugin.scripts.shell.Commands
        taskRunner: {{type: io.kestra.plugin.core.runner.Process}}
        commands: [cat notes.txt]
""")
    )
    assert execution.state == State.FAILED
    assert (
        "inputFiles 'notes.txt' refused: namespace company.data may not read files of dev; "
        + REFUSAL
    ) in failure(execution)


def test_bob_cannot_start_dev_flows_batch_by_batch(worker, people) -> None:
    alice_runs_dev_target()
    execution = bob_runs(
        bob_saves("""id: batcher
namespace: company.data
tasks:
  - id: lines
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner: {type: io.kestra.plugin.core.runner.Process}
    commands: ["printf 'a\\nb\\n' > list.txt"]
    outputFiles: [list.txt]
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{ outputs.lines.outputFiles['list.txt'] }}"
    namespace: dev
    flowId: target
""")
    )
    assert execution.state == State.FAILED
    assert REFUSAL in failure(execution)
    assert Execution.objects.filter(namespace="dev").count() == 1  # alice's own run only

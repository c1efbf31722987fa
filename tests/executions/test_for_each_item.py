"""ForEachItem on a real worker: a stored file cut into batches, one subflow execution
per batch with ``taskrun.items`` and ``taskrun.iteration``, and Kestra's outputs."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from executions.lifecycle import execution_start
from executions.models import Execution, State, TaskRun
from executions.storage import storage_read
from flows.language import FlowInvalid, parse_flow
from tests.flows_helpers import finished, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

CHILD = """
id: items-child
namespace: dev
inputs:
  - id: batch
    type: FILE
  - id: number
    type: INT
tasks:
  - id: refuse_three
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ false }}"
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "batch {{ inputs.number }}"
outputs:
  - id: seen
    type: INT
    value: "{{ inputs.number }}"
"""


def parent(batch: str, *, flow_id: str = "items-parent", extra: str = "") -> str:
    return f"""
id: {flow_id}
namespace: dev
inputs:
  - id: orders
    type: FILE
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{{{ inputs.orders }}}}"
    batch: {batch}
    namespace: dev
    flowId: items-child
    inputs:
      batch: "{{{{ taskrun.items }}}}"
      number: "{{{{ taskrun.iteration }}}}"
{extra}  - id: report
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ outputs.each.numberOfBatches }}}} batches, {{{{ outputs.each_items.iterations.SUCCESS }}}} ok"
"""


def start(source: str, content: bytes, child: str = CHILD) -> Execution:
    save_flow(child)
    upload = SimpleUploadedFile("orders.txt", content)
    return finished(execution_start(flow=save_flow(source), files={"orders": upload}), 90)


def batches(execution: Execution) -> list[bytes]:
    children = Execution.objects.filter(parent_task_run__execution=execution)
    ordered = sorted(children, key=lambda child: child.inputs["number"])
    return [storage_read(child.inputs["batch"]) for child in ordered]


def test_it_runs_the_subflow_once_per_batch_of_rows_and_counts_them(worker) -> None:
    execution = start(parent("{rows: 2}"), b"a\nb\nc\nd\ne\n")
    assert execution.state == State.SUCCESS
    assert batches(execution) == [b"a\nb\n", b"c\nd\n", b"e\n"]
    each = TaskRun.objects.get(execution=execution, task_id="each")
    assert each.outputs["numberOfBatches"] == 3
    assert each.outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": 3}
    assert messages(execution)[-1] == "3 batches, 3 ok"
    merged = storage_read(each.outputs["subflowOutputs"]).decode().splitlines()
    assert sorted(json.loads(line)["seen"] for line in merged) == ["1", "2", "3"]


def test_it_cuts_by_partitions_and_by_bytes(worker) -> None:
    by_partitions = start(parent("{partitions: 2}"), b"1\n2\n3\n4\n5\n")
    assert batches(by_partitions) == [b"1\n2\n3\n", b"4\n5\n"]
    by_bytes = start(parent("{bytes: 4B}", flow_id="items-bytes"), b"aa\nbb\ncc\n")
    assert batches(by_bytes) == [b"aa\n", b"bb\n", b"cc\n"]


def test_a_failed_batch_fails_the_task_unless_told_otherwise(worker) -> None:
    failing_third = CHILD.replace("{{ false }}", "{{ inputs.number == 3 }}")
    strict = start(parent("{rows: 1}", flow_id="items-strict"), b"x\ny\nz\n", failing_third)
    assert strict.state == State.FAILED
    each = TaskRun.objects.get(execution=strict, task_id="each")
    assert each.outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": 2, "FAILED": 1}


def test_the_older_subflow_block_is_accepted(worker) -> None:
    source = """
id: items-older
namespace: dev
inputs:
  - id: orders
    type: FILE
tasks:
  - id: each
    type: io.kestra.core.tasks.flows.ForEachItem
    items: "{{ inputs.orders }}"
    batch:
      rows: 3
    subflow:
      namespace: dev
      flowId: items-child
      wait: true
      transmitFailed: true
      inputs:
        batch: "{{ taskrun.items }}"
        number: "{{ taskrun.iteration }}"
"""
    execution = start(source, b"p\nq\n")
    assert execution.state == State.SUCCESS
    assert batches(execution) == [b"p\nq\n"]


def test_a_batch_cut_two_ways_at_once_is_refused_where_it_is_written() -> None:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(parent("{rows: 2, partitions: 3}").replace("\nid:", "id:", 1))
    assert any("only one of them" in str(error) for error in caught.value.errors)


def test_a_batch_size_may_come_from_an_input(worker) -> None:
    source = parent("{rows: '{{ inputs.size }}'}", flow_id="items-sized").replace(
        "    type: FILE\n", "    type: FILE\n  - id: size\n    type: INT\n", 1
    )
    save_flow(CHILD)
    upload = SimpleUploadedFile("orders.txt", b"a\nb\nc\n")
    execution = finished(
        execution_start(flow=save_flow(source), inputs={"size": 2}, files={"orders": upload}), 90
    )
    assert execution.state == State.SUCCESS
    assert batches(execution) == [b"a\nb\n", b"c\n"]

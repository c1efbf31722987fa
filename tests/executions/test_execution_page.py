"""The execution page shows the run: its task tree with live states, a Gantt of task
runs and their attempts, outputs per task, inputs, trigger and labels.

Rows are written directly, the way the engine leaves them, so each shape of run can be
looked at without waiting for one.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape as html_unescape
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from executions.models import Execution, State, TaskRun
from executions.presentation import execution_tree, gantt_rows, walk
from tests.executions.helpers import (
    BRANCHES_FLOW,
    PARALLEL,
    at,
    half_run_fan_out,
    listed_executions,
    make_attempt,
    make_execution,
    make_run,
)

pytestmark = pytest.mark.django_db


def _page(client: Client, execution: Execution) -> str:
    response = client.get(f"/executions/{execution.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _fragment(client: Client, execution: Execution) -> str:
    response = client.get(f"/executions/{execution.pk}/task-runs/")
    assert response.status_code == 200
    return response.content.decode()


def _node(html: str, task_id: str) -> str:
    """The opening tag of a topology node."""
    match = re.search(rf'<div class="run-node [^"]*" data-node="{task_id}"[^>]*>', html)
    assert match, f"no topology node for {task_id}"
    return match.group(0)


def _row(html: str, task_id: str) -> str:
    match = re.search(rf'<tr class="gantt-row" data-task="{task_id}".*?</tr>', html, re.S)
    assert match, f"no Gantt row for {task_id}"
    return match.group(0)


# The topology


def test_the_topology_colours_each_task_by_its_live_state(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution, _ = half_run_fan_out()

    html = _fragment(client, execution)

    assert "node-SUCCESS" in _node(html, "prepare")
    assert "node-RUNNING" in _node(html, "fan")
    assert "node-SUCCESS" in _node(html, "left")
    assert "node-RUNNING" in _node(html, "middle")


def test_a_task_not_started_yet_appears_greyed_with_no_state(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution, _ = half_run_fan_out()

    node = _node(_fragment(client, execution), "report")

    assert "node-NOT_STARTED" in node and "data-task-run" not in node


def test_a_parallel_draws_its_tasks_as_branches_side_by_side(alice: Any) -> None:
    execution, runs = half_run_fan_out()

    tree = execution_tree(execution)

    assert [node.task_id for node in tree] == ["prepare", "fan", "report"]
    fan = tree[1]
    assert fan.side_by_side and fan.run == runs["fan"]
    assert [[n.task_id for n in branch.nodes] for branch in fan.branches] == [
        ["left"],
        ["middle"],
        ["right"],
    ]


def test_the_topology_follows_the_run_as_the_fragment_is_refreshed(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    execution, runs = half_run_fan_out()
    assert "node-RUNNING" in _node(_fragment(client, execution), "right")

    TaskRun.objects.filter(pk=runs["right"].pk).update(state=State.FAILED, ended_at=at(3))

    assert "node-FAILED" in _node(_fragment(client, execution), "right")


def test_foreach_iterations_are_grouped_by_their_value(alice: Any) -> None:
    execution = make_execution(BRANCHES_FLOW)
    each = make_run(execution, "each", task_type="io.kestra.plugin.core.flow.ForEach", span=(0, 4))
    for position, value in enumerate(["a", "b"]):
        make_run(
            execution,
            "inner",
            path=f"each[{value}]/inner",
            parent=each,
            position=position,
            value=value,
            span=(position, position + 1),
        )

    each_node = execution_tree(execution)[0]

    assert [branch.label for branch in each_node.branches] == ["a", "b"]
    assert [branch.nodes[0].value for branch in each_node.branches] == ["a", "b"]


def test_a_foreach_not_started_shows_its_tasks_once_greyed(alice: Any) -> None:
    execution = make_execution(BRANCHES_FLOW, state=State.CREATED, started_at=None, ended_at=None)

    each_node, check_node = execution_tree(execution)

    assert each_node.run is None and each_node.branches[0].nodes[0].task_id == "inner"
    assert each_node.branches[0].nodes[0].run is None
    assert [b.label for b in check_node.branches] == ["then", "else"]


def test_an_if_shows_the_branch_that_ran_and_the_one_that_did_not(alice: Any) -> None:
    execution = make_execution(BRANCHES_FLOW)
    check = make_run(execution, "check", task_type="io.kestra.plugin.core.flow.If", position=1)
    make_run(execution, "agree", path="check/agree", parent=check)

    check_node = execution_tree(execution)[1]

    then, otherwise = check_node.branches
    assert (then.label, then.nodes[0].state) == ("then", State.SUCCESS)
    assert (otherwise.label, otherwise.nodes[0].state) == ("else", "")


def test_a_task_run_the_definition_does_not_know_is_still_shown(alice: Any) -> None:
    execution, runs = half_run_fan_out()
    make_run(execution, "stray", path="fan/stray", parent=runs["fan"], position=9)

    fan = execution_tree(execution)[1]

    shown = [node.task_id for node, _ in walk([fan])]
    assert "stray" in shown


# The Gantt


def test_the_gantt_has_one_row_per_task_run_indented_under_its_parent(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    execution, _ = half_run_fan_out()

    html = _fragment(client, execution)

    rows = re.findall(r'<tr class="gantt-row" data-task="([^"]+)"', html)
    assert rows == ["prepare", "fan", "left", "middle", "right"]
    assert "padding-left:calc(.7rem + 0 * 1.1rem)" in _row(html, "fan")
    assert "padding-left:calc(.7rem + 1 * 1.1rem)" in _row(html, "middle")


def test_each_attempt_is_a_segment_placed_on_the_run_s_time_scale(alice: Any) -> None:
    execution = make_execution()  # 0 s to 10 s
    run = make_run(execution, "prepare", span=(0, 10), attempt=2)
    make_attempt(run, 1, State.FAILED, (0, 2), exit_code=1, error="boom")
    make_attempt(run, 2, State.SUCCESS, (2, 10))

    gantt = gantt_rows(execution)

    (row,) = gantt.rows
    assert (row.left, row.width) == (0, 100)
    assert [(s.left, s.width) for s in row.segments] == [(0, 20), (20, 80)]
    assert gantt.ticks[-1] == (100, "10 s")


def test_a_failed_attempt_is_red_and_its_tooltip_says_why(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution, _ = half_run_fan_out()

    row = _row(_fragment(client, execution), "middle")

    failed = re.search(r'<span class="gantt-attempt attempt-FAILED" data-attempt="1"[^>]*>', row)
    assert failed, row
    assert "Attempt 1 · FAILED · 500 ms · exit code 3 · exit code 3" in failed.group(0)
    assert 'class="gantt-attempt attempt-RUNNING" data-attempt="2"' in row
    assert 'data-attempts="2"' in row  # the page offers to filter the logs by attempt


def test_a_running_task_s_bar_reaches_now(alice: Any) -> None:
    ten_seconds_ago = timezone.now() - timedelta(seconds=10)
    execution = make_execution(state=State.RUNNING, started_at=ten_seconds_ago, ended_at=None)
    run = make_run(execution, "prepare", state=State.RUNNING, span=None)
    TaskRun.objects.filter(pk=run.pk).update(started_at=ten_seconds_ago)

    (row,) = gantt_rows(execution).rows

    assert row.left == 0 and row.width > 99


def test_a_task_run_not_started_has_a_row_but_no_bar(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution = make_execution(state=State.RUNNING, ended_at=None)
    make_run(execution, "prepare", state=State.CREATED, span=None)

    row = _row(_fragment(client, execution), "prepare")

    assert "CREATED" in row and "gantt-bar" not in row


def test_the_page_costs_the_same_queries_for_three_task_runs_or_thirty(
    client: Client, alice: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(alice)
    small, _ = half_run_fan_out()
    large = make_execution()
    fan = make_run(large, "fan", task_type=PARALLEL, span=(0, 9))
    for index in range(30):
        run = make_run(large, "left", path=f"fan/left{index}", parent=fan, position=index)
        make_attempt(run, 1, State.FAILED, (0, 0.5))
        make_attempt(run, 2, State.SUCCESS, (0.5, 1))
    client.get(f"/executions/{small.pk}/")  # sessions, permissions: warmed once

    with django_assert_max_num_queries(12) as small_queries:
        _page(client, small)
    with django_assert_max_num_queries(len(small_queries)) as _:
        _page(client, large)


# Outputs, inputs, trigger, labels, relations


def test_each_task_s_outputs_are_folded_with_a_preview_and_shown_as_indented_json(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    execution = make_execution()
    outputs = {"vars": {"rows": 3, "name": "été"}, "exitCode": 0}
    make_run(execution, "prepare", outputs=outputs)

    html = _fragment(client, execution)

    block = re.search(
        r'<details class="task-output" data-output="[^"]+">(.*?)\n    </details>', html, re.S
    )
    assert block, "the outputs are folded (no open attribute)"
    summary = re.search(r"<summary>(.*?)</summary>", block.group(1), re.S)
    assert summary
    assert "prepare" in summary.group(1)
    assert "exitCode: 0 · vars: {name, rows}" in html_unescape(summary.group(1))
    raw = re.search(
        r'data-output="[^"]+:json"><summary>All as JSON</summary><pre class="json">(.*?)</pre>',
        block.group(1),
        re.S,
    )
    assert raw
    shown = html_unescape(raw.group(1))
    assert json.loads(shown) == outputs and '\n    "rows": 3' in shown
    vars_fold = re.search(r'data-output="[^"]+:vars"><summary>\{2 keys\}</summary>', block.group(1))
    assert vars_fold, "an object output folds on its own"


def test_inputs_and_trigger_are_shown(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution = make_execution(
        inputs={"who": "world", "sizes": [1, 2]},
        trigger={
            "id": "nightly",
            "type": "io.kestra.plugin.core.trigger.Schedule",
            "variables": {"date": "2026-03-02T09:00:00Z"},
        },
    )

    html = _page(client, execution)

    table = re.search(r'<table class="inputs".*?</table>', html, re.S)
    assert table is not None
    inputs = table.group(0)
    assert "<th>who</th>" in inputs and "world" in inputs
    assert "[\n  1,\n  2\n]" in inputs
    assert "nightly" in html and "2026-03-02T09:00:00Z" in html


def test_labels_are_chips_that_lead_to_the_list_filtered_by_them(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    labelled = make_execution(labels={"team": "data", "env": "prod"})
    make_execution(labels={"team": "web"})

    html = _page(client, labelled)
    chip = re.search(r'<a class="label-chip" href="([^"]+)"[^>]*>team: data</a>', html)
    assert chip

    listed = client.get(chip.group(1).replace("&amp;", "&")).content.decode()
    assert listed_executions(listed) == [labelled.pk]


def test_a_subflow_links_to_its_parent_and_a_replay_to_its_original(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    parent = make_execution()
    call = make_run(parent, "prepare", task_type="io.kestra.plugin.core.flow.Subflow")
    child = make_execution(parent_task_run=call)
    replay = make_execution(original_id=parent.pk)

    assert f'href="/executions/{parent.pk}/" data-testid="parent-execution"' in _page(client, child)
    assert f'href="/executions/{child.pk}/" class="subflow-link"' in _page(client, parent)
    assert f'href="/executions/{parent.pk}/" data-testid="original-execution"' in _page(
        client, replay
    )


def test_charlie_cannot_open_the_page(client: Client, charlie: Any, alice: Any) -> None:
    client.force_login(charlie)
    execution, _ = half_run_fan_out()

    assert client.get(f"/executions/{execution.pk}/").status_code == 404
    assert client.get(f"/executions/{execution.pk}/task-runs/").status_code == 404

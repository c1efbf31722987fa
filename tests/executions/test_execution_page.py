"""The execution page shows the run: its task tree with live states, a Gantt of task
runs and their attempts, outputs per task, inputs, trigger and labels; the executions
list and Kestra's search API filter by namespace, flow, state, label and date.

Rows are written directly, the way the engine leaves them, so each shape of run can be
looked at without waiting for one.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html import unescape as html_unescape
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role, RoleBinding
from executions.models import Execution, State, TaskRun, TaskRunAttempt
from executions.presentation import execution_tree, gantt_rows, walk
from flows.models import Flow

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(datetime(2026, 3, 2, 9, 0, 0))
PARALLEL = "io.kestra.plugin.core.flow.Parallel"
SHELL = "io.kestra.plugin.scripts.shell.Commands"
PROCESS = "io.kestra.plugin.core.runner.Process"

PARALLEL_FLOW = f"""id: fan-out
namespace: dev
tasks:
  - id: prepare
    type: io.kestra.plugin.core.log.Log
    message: start
  - id: fan
    type: {PARALLEL}
    tasks:
      - id: left
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands: [sleep 1]
      - id: middle
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands: [sleep 1]
      - id: right
        type: {SHELL}
        taskRunner: {{type: {PROCESS}}}
        commands: [sleep 1]
  - id: report
    type: io.kestra.plugin.core.log.Log
    message: done
"""

BRANCHES_FLOW = """id: branches
namespace: dev
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.log.Log
        message: "{{ taskrun.value }}"
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{ true }}"
    then:
      - id: agree
        type: io.kestra.plugin.core.log.Log
        message: agreed
    else:
      - id: refuse
        type: io.kestra.plugin.core.log.Log
        message: refused
"""


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _execution(source: str = PARALLEL_FLOW, **fields: Any) -> Execution:
    flow = Flow.save_source(source)
    values = {"state": State.SUCCESS, "started_at": T0, "ended_at": _at(10), "created_at": T0}
    values.update(fields)
    return Execution.objects.create(
        flow_revision=flow.current_revision,
        namespace=flow.namespace,
        flow_id=flow.flow_id,
        **values,
    )


def _run(
    execution: Execution,
    task_id: str,
    *,
    path: str = "",
    parent: TaskRun | None = None,
    position: int = 0,
    state: str = State.SUCCESS,
    span: tuple[float, float] | None = (0, 1),
    task_type: str = SHELL,
    **fields: Any,
) -> TaskRun:
    started, ended = span if span else (None, None)
    return TaskRun.objects.create(
        execution=execution,
        task_id=task_id,
        path=path or task_id,
        parent=parent,
        position=position,
        task_type=task_type,
        state=state,
        started_at=None if started is None else _at(started),
        ended_at=None if ended is None else _at(ended),
        created_at=_at(started or 0),
        **fields,
    )


def _attempt(run: TaskRun, number: int, state: str, span: tuple[float, float], **fields: Any):
    return TaskRunAttempt.objects.create(
        task_run=run,
        number=number,
        state=state,
        started_at=_at(span[0]),
        ended_at=_at(span[1]),
        **fields,
    )


def _half_run_fan_out() -> tuple[Execution, dict[str, TaskRun]]:
    """fan-out while its Parallel runs: prepare done, left done, middle failing a first
    attempt and retrying, right running, report not started."""
    execution = _execution(state=State.RUNNING, ended_at=None)
    prepare = _run(execution, "prepare", span=(0, 1), task_type="io.kestra.plugin.core.log.Log")
    fan = _run(
        execution, "fan", position=1, state=State.RUNNING, span=(1, None), task_type=PARALLEL
    )
    left = _run(execution, "left", path="fan/left", parent=fan, span=(1, 2), attempt=1)
    middle = _run(
        execution,
        "middle",
        path="fan/middle",
        parent=fan,
        position=1,
        state=State.RUNNING,
        span=(1, None),
        attempt=2,
    )
    right = _run(
        execution,
        "right",
        path="fan/right",
        parent=fan,
        position=2,
        state=State.RUNNING,
        span=(1, None),
        attempt=1,
    )
    _attempt(left, 1, State.SUCCESS, (1, 2))
    _attempt(middle, 1, State.FAILED, (1, 1.5), exit_code=3, error="exit code 3")
    TaskRunAttempt.objects.create(task_run=middle, number=2, state=State.RUNNING, started_at=_at(2))
    TaskRunAttempt.objects.create(task_run=right, number=1, state=State.RUNNING, started_at=_at(1))
    runs = {"prepare": prepare, "fan": fan, "left": left, "middle": middle, "right": right}
    return execution, runs


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
    execution, _ = _half_run_fan_out()

    html = _fragment(client, execution)

    assert "node-SUCCESS" in _node(html, "prepare")
    assert "node-RUNNING" in _node(html, "fan")
    assert "node-SUCCESS" in _node(html, "left")
    assert "node-RUNNING" in _node(html, "middle")


def test_a_task_not_started_yet_appears_greyed_with_no_state(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution, _ = _half_run_fan_out()

    node = _node(_fragment(client, execution), "report")

    assert "node-NOT_STARTED" in node and "data-task-run" not in node


def test_a_parallel_draws_its_tasks_as_branches_side_by_side(alice: Any) -> None:
    execution, runs = _half_run_fan_out()

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
    execution, runs = _half_run_fan_out()
    assert "node-RUNNING" in _node(_fragment(client, execution), "right")

    TaskRun.objects.filter(pk=runs["right"].pk).update(state=State.FAILED, ended_at=_at(3))

    assert "node-FAILED" in _node(_fragment(client, execution), "right")


def test_foreach_iterations_are_grouped_by_their_value(alice: Any) -> None:
    execution = _execution(BRANCHES_FLOW)
    each = _run(execution, "each", task_type="io.kestra.plugin.core.flow.ForEach", span=(0, 4))
    for position, value in enumerate(["a", "b"]):
        _run(
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
    execution = _execution(BRANCHES_FLOW, state=State.CREATED, started_at=None, ended_at=None)

    each_node, check_node = execution_tree(execution)

    assert each_node.run is None and each_node.branches[0].nodes[0].task_id == "inner"
    assert each_node.branches[0].nodes[0].run is None
    assert [b.label for b in check_node.branches] == ["then", "else"]


def test_an_if_shows_the_branch_that_ran_and_the_one_that_did_not(alice: Any) -> None:
    execution = _execution(BRANCHES_FLOW)
    check = _run(execution, "check", task_type="io.kestra.plugin.core.flow.If", position=1)
    _run(execution, "agree", path="check/agree", parent=check)

    check_node = execution_tree(execution)[1]

    then, otherwise = check_node.branches
    assert (then.label, then.nodes[0].state) == ("then", State.SUCCESS)
    assert (otherwise.label, otherwise.nodes[0].state) == ("else", "")


def test_a_task_run_the_definition_does_not_know_is_still_shown(alice: Any) -> None:
    execution, runs = _half_run_fan_out()
    _run(execution, "stray", path="fan/stray", parent=runs["fan"], position=9)

    fan = execution_tree(execution)[1]

    shown = [node.task_id for node, _ in walk([fan])]
    assert "stray" in shown


# The Gantt


def test_the_gantt_has_one_row_per_task_run_indented_under_its_parent(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    execution, _ = _half_run_fan_out()

    html = _fragment(client, execution)

    rows = re.findall(r'<tr class="gantt-row" data-task="([^"]+)"', html)
    assert rows == ["prepare", "fan", "left", "middle", "right"]
    assert "padding-left:calc(.7rem + 0 * 1.1rem)" in _row(html, "fan")
    assert "padding-left:calc(.7rem + 1 * 1.1rem)" in _row(html, "middle")


def test_each_attempt_is_a_segment_placed_on_the_run_s_time_scale(alice: Any) -> None:
    execution = _execution()  # 0 s to 10 s
    run = _run(execution, "prepare", span=(0, 10), attempt=2)
    _attempt(run, 1, State.FAILED, (0, 2), exit_code=1, error="boom")
    _attempt(run, 2, State.SUCCESS, (2, 10))

    gantt = gantt_rows(execution)

    (row,) = gantt.rows
    assert (row.left, row.width) == (0, 100)
    assert [(s.left, s.width) for s in row.segments] == [(0, 20), (20, 80)]
    assert gantt.ticks[-1] == (100, "10 s")


def test_a_failed_attempt_is_red_and_its_tooltip_says_why(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution, _ = _half_run_fan_out()

    row = _row(_fragment(client, execution), "middle")

    failed = re.search(r'<span class="gantt-attempt attempt-FAILED" data-attempt="1"[^>]*>', row)
    assert failed, row
    assert "Attempt 1 · FAILED · 0.50 s · exit code 3 · exit code 3" in failed.group(0)
    assert 'class="gantt-attempt attempt-RUNNING" data-attempt="2"' in row
    assert 'data-attempts="2"' in row  # the page offers to filter the logs by attempt


def test_a_running_task_s_bar_reaches_now(alice: Any) -> None:
    ten_seconds_ago = timezone.now() - timedelta(seconds=10)
    execution = _execution(state=State.RUNNING, started_at=ten_seconds_ago, ended_at=None)
    run = _run(execution, "prepare", state=State.RUNNING, span=None)
    TaskRun.objects.filter(pk=run.pk).update(started_at=ten_seconds_ago)

    (row,) = gantt_rows(execution).rows

    assert row.left == 0 and row.width > 99


def test_a_task_run_not_started_has_a_row_but_no_bar(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution = _execution(state=State.RUNNING, ended_at=None)
    _run(execution, "prepare", state=State.CREATED, span=None)

    row = _row(_fragment(client, execution), "prepare")

    assert "CREATED" in row and "gantt-bar" not in row


def test_the_page_costs_the_same_queries_for_three_task_runs_or_thirty(
    client: Client, alice: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(alice)
    small, _ = _half_run_fan_out()
    large = _execution()
    fan = _run(large, "fan", task_type=PARALLEL, span=(0, 9))
    for index in range(30):
        run = _run(large, "left", path=f"fan/left{index}", parent=fan, position=index)
        _attempt(run, 1, State.FAILED, (0, 0.5))
        _attempt(run, 2, State.SUCCESS, (0.5, 1))
    client.get(f"/executions/{small.pk}/")  # sessions, permissions: warmed once

    with django_assert_max_num_queries(12) as small_queries:
        _page(client, small)
    with django_assert_max_num_queries(len(small_queries)) as _:
        _page(client, large)


# Outputs, inputs, trigger, labels, relations


def test_each_task_s_outputs_are_shown_as_indented_json(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution = _execution()
    outputs = {"vars": {"rows": 3, "name": "été"}, "exitCode": 0}
    _run(execution, "prepare", outputs=outputs)

    html = _fragment(client, execution)

    block = re.search(
        r'<details class="task-output" data-output="[^"]+" open>\s*<summary>prepare</summary>'
        r'\s*<pre class="json">(.*?)</pre>',
        html,
        re.S,
    )
    assert block
    shown = html_unescape(block.group(1))
    assert json.loads(shown) == outputs and '\n    "rows": 3' in shown


def test_inputs_and_trigger_are_shown(client: Client, alice: Any) -> None:
    client.force_login(alice)
    execution = _execution(
        inputs={"who": "world", "sizes": [1, 2]},
        trigger={
            "id": "nightly",
            "type": "io.kestra.plugin.core.trigger.Schedule",
            "variables": {"date": "2026-03-02T09:00:00Z"},
        },
    )

    html = _page(client, execution)

    inputs = re.search(r'<table class="inputs".*?</table>', html, re.S).group(0)
    assert "<th>who</th>" in inputs and "world" in inputs
    assert "[\n  1,\n  2\n]" in inputs
    assert "nightly" in html and "2026-03-02T09:00:00Z" in html


def test_labels_are_chips_that_lead_to_the_list_filtered_by_them(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    labelled = _execution(labels={"team": "data", "env": "prod"})
    _execution(labels={"team": "web"})

    html = _page(client, labelled)
    chip = re.search(r'<a class="label-chip" href="([^"]+)"[^>]*>team: data</a>', html)
    assert chip

    listed = client.get(chip.group(1).replace("&amp;", "&")).content.decode()
    assert _listed(listed) == [labelled.pk]


def test_a_subflow_links_to_its_parent_and_a_replay_to_its_original(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    parent = _execution()
    call = _run(parent, "prepare", task_type="io.kestra.plugin.core.flow.Subflow")
    child = _execution(parent_task_run=call)
    replay = _execution(original_id=parent.pk)

    assert f'href="/executions/{parent.pk}/" data-testid="parent-execution"' in _page(client, child)
    assert f'href="/executions/{child.pk}/" class="subflow-link"' in _page(client, parent)
    assert f'href="/executions/{parent.pk}/" data-testid="original-execution"' in _page(
        client, replay
    )


def test_charlie_cannot_open_the_page(client: Client, charlie: Any, alice: Any) -> None:
    client.force_login(charlie)
    execution, _ = _half_run_fan_out()

    assert client.get(f"/executions/{execution.pk}/").status_code == 404
    assert client.get(f"/executions/{execution.pk}/task-runs/").status_code == 404


# The executions list


def _listed(html: str) -> list[str]:
    return re.findall(r'<tr data-execution="([^"]+)"', html)


def _list(client: Client, query: str) -> list[str]:
    response = client.get(f"/executions/?{query}")
    assert response.status_code == 200
    return _listed(response.content.decode())


def _flow_in(namespace: str, flow_id: str) -> str:
    return (
        f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n  - id: t\n    type: Log\n    message: m\n"
    )


@pytest.fixture
def spread(alice: Any, bob: Any) -> dict[str, Execution]:
    """Executions across namespaces, flows, states, labels and days; alice sees them all,
    ``companyx`` included, so that it is the filter that leaves it out."""
    RoleBinding.objects.create(user=alice, namespace="companyx", role=Role.VIEWER)
    made = {}
    for name, namespace, flow_id, state, day, labels in [
        ("company", "company", "a", State.SUCCESS, 1, {"env": "prod"}),
        ("team", "company.team", "a", State.FAILED, 2, {"env": "dev"}),
        ("data", "company.data", "b", State.KILLED, 3, {"env": "prod", "team": "data"}),
        ("other", "companyx", "a", State.SUCCESS, 4, {}),
        ("dev", "dev", "c", State.RUNNING, 5, {"env": "prod"}),
    ]:
        made[name] = _execution(
            _flow_in(namespace, flow_id),
            state=state,
            labels=labels,
            created_at=T0 + timedelta(days=day),
        )
    return made


def test_the_namespace_filter_also_finds_child_namespaces(
    client: Client, alice: Any, spread: dict[str, Execution]
) -> None:
    client.force_login(alice)

    shown = _list(client, "namespace=company")

    assert set(shown) == {spread["company"].pk, spread["team"].pk, spread["data"].pk}


def test_the_flow_filter(client: Client, alice: Any, spread: dict[str, Execution]) -> None:
    client.force_login(alice)

    assert set(_list(client, "namespace=company&flow=a")) == {
        spread["company"].pk,
        spread["team"].pk,
    }


def test_several_states_can_be_chosen(
    client: Client, alice: Any, spread: dict[str, Execution]
) -> None:
    client.force_login(alice)

    shown = _list(client, "state=FAILED&state=KILLED")

    assert set(shown) == {spread["team"].pk, spread["data"].pk}
    page = client.get("/executions/?state=FAILED&state=KILLED").content.decode()
    assert 'value="FAILED" checked' in page and 'value="SUCCESS" checked' not in page


def test_the_label_filter_takes_key_colon_value_and_several_combine(
    client: Client, alice: Any, spread: dict[str, Execution]
) -> None:
    client.force_login(alice)

    assert set(_list(client, "label=env:prod")) == {
        spread["company"].pk,
        spread["data"].pk,
        spread["dev"].pk,
    }
    assert _list(client, "label=env:prod&label=team:data") == [spread["data"].pk]


def test_the_date_range_includes_the_whole_end_day(
    client: Client, alice: Any, spread: dict[str, Execution]
) -> None:
    client.force_login(alice)
    day = lambda n: (T0 + timedelta(days=n)).date().isoformat()  # noqa: E731

    shown = _list(client, f"start={day(2)}&end={day(3)}")

    assert set(shown) == {spread["team"].pk, spread["data"].pk}
    assert set(_list(client, f"start={day(5)}T08:00")) == {spread["dev"].pk}


def test_a_filter_that_cannot_be_read_is_explained(client: Client, alice: Any) -> None:
    client.force_login(alice)

    html = client.get("/executions/?state=DONE&label=nocolon&start=yesterday").content.decode()

    assert "state: &#x27;DONE&#x27; is not a state" in html
    assert "label: &#x27;nocolon&#x27; must be written key:value" in html
    assert "start: &#x27;yesterday&#x27; is not a date" in html


def test_the_pages_keep_the_filters(client: Client, alice: Any) -> None:
    client.force_login(alice)
    for _ in range(51):
        _execution(_flow_in("dev", "many"), labels={"env": "prod"})

    html = client.get("/executions/?namespace=dev&label=env:prod&state=SUCCESS").content.decode()

    older = re.search(r'<a href="\?([^"]+)">Older</a>', html).group(1).replace("&amp;", "&")
    assert older == "namespace=dev&label=env%3Aprod&state=SUCCESS&page=2"
    assert len(_list(client, older)) == 1


def test_bob_sees_only_his_namespace_and_charlie_nothing(
    client: Client, bob: Any, charlie: Any, spread: dict[str, Execution]
) -> None:
    client.force_login(bob)
    assert _list(client, "") == [spread["data"].pk]
    assert _list(client, "namespace=company") == [spread["data"].pk]

    client.force_login(charlie)
    assert _list(client, "") == []
    assert _list(client, "namespace=company&label=env:prod") == []


# Kestra's search API


def _search(api: Any, query: str) -> Any:
    return api.get(f"/api/v1/executions/search?{query}")


def test_the_search_api_filters_like_the_page(api: Any, spread: dict[str, Execution]) -> None:
    response = _search(api, "namespace=company&state=SUCCESS&state=KILLED&labels=env:prod")

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert {e["id"] for e in body["results"]} == {spread["company"].pk, spread["data"].pk}
    assert {"key": "team", "value": "data"} in next(
        e["labels"] for e in body["results"] if e["id"] == spread["data"].pk
    )


def test_the_search_api_reads_kestra_s_dates_and_flow_id(
    api: Any, spread: dict[str, Execution]
) -> None:
    start = (T0 + timedelta(days=1, hours=1)).isoformat()
    end = (T0 + timedelta(days=4)).isoformat()

    body = _search(
        api, f"flowId=a&startDate={start.replace('+', '%2B')}&endDate={end.replace('+', '%2B')}"
    ).json()

    assert [e["id"] for e in body["results"]] == [spread["other"].pk, spread["team"].pk]


def test_the_search_api_pages_newest_first(api: Any, spread: dict[str, Execution]) -> None:
    first = _search(api, "size=2").json()
    third = _search(api, "size=2&page=3").json()

    assert first["total"] == third["total"] == 5
    assert [e["id"] for e in first["results"]] == [spread["dev"].pk, spread["other"].pk]
    assert [e["id"] for e in third["results"]] == [spread["company"].pk]


def test_the_search_api_refuses_what_it_cannot_read(api: Any) -> None:
    response = _search(api, "state=DONE")

    assert response.status_code == 400
    assert "state: 'DONE' is not a state" in response.json()["message"]
    assert _search(api, "size=0").status_code == 400


def test_the_search_api_shows_charlie_nothing(
    client: Client, charlie: Any, spread: dict[str, Execution]
) -> None:
    from tests.conftest import basic_auth

    response = client.get(
        "/api/v1/executions/search?namespace=company", HTTP_AUTHORIZATION=basic_auth("charlie")
    )

    assert response.status_code == 200
    assert response.json() == {"results": [], "total": 0}

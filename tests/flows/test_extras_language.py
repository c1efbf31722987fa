"""What the flow language accepts and refuses for taskDefaults, allowWarning, logLevel,
logToFile, AllowFailure, Dag, Template, Resume, Toggle and the state store, and how an
expression Pebble cannot parse fails, as it does in Kestra."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.expressions import ExpressionError, render
from flows.language import FlowInvalid, parse_flow
from flows.language.tasks import LogTask
from flows.outline import flow_outline
from flows.schema import flow_schema

LOG = "io.kestra.plugin.core.log.Log"


def errors_of(source: str) -> list[tuple[int, int, str]]:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(source)
    return [(e.line, e.column, e.message) for e in caught.value.errors]


def dag(nodes: dict[str, list[str]]) -> str:
    lines = [
        "id: d",
        "namespace: dev",
        "tasks:",
        "  - id: dag",
        "    type: io.kestra.plugin.core.flow.Dag",
        "    tasks:",
    ]
    for task_id, depends_on in nodes.items():
        lines += [
            "      - task:",
            f"          id: {task_id}",
            f"          type: {LOG}",
            "          message: hi",
        ]
        if depends_on:
            lines.append(f"        dependsOn: [{', '.join(depends_on)}]")
    return "\n".join(lines) + "\n"


def test_a_dag_naming_a_dependency_it_does_not_hold_is_refused_at_the_dag() -> None:
    [(line, column, message)] = errors_of(dag({"a": [], "b": ["a", "c"]}))
    assert (line, column) == (4, 5)
    assert message == "Dag 'dag': task 'b' depends on 'c', not a task of this Dag"


def test_a_dag_whose_tasks_depend_on_each_other_in_a_cycle_is_refused_naming_it() -> None:
    [(_, _, message)] = errors_of(dag({"a": ["c"], "b": ["a"], "c": ["b"], "d": []}))
    assert message.startswith("Dag 'dag': its tasks depend on each other in a cycle")
    assert message.endswith("a → c → b → a")


def test_a_task_depending_on_itself_is_a_cycle() -> None:
    [(_, _, message)] = errors_of(dag({"a": ["a"]}))
    assert message.endswith(": a → a")


def _has_cycle(nodes: dict[str, list[str]]) -> bool:
    """Kahn's algorithm: what cannot be ordered sits on or behind a cycle."""
    waiting = {task_id: set(depends_on) for task_id, depends_on in nodes.items()}
    while True:
        ready = [task_id for task_id, depends_on in waiting.items() if not depends_on]
        if not ready:
            return bool(waiting)
        for task_id in ready:
            del waiting[task_id]
        for depends_on in waiting.values():
            depends_on.difference_update(ready)


@st.composite
def dependency_graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    ids = [f"t{i}" for i in range(draw(st.integers(1, 6)))]
    return {
        task_id: draw(st.lists(st.sampled_from(ids), max_size=3, unique=True)) for task_id in ids
    }


@settings(max_examples=150, deadline=None)
@given(dependency_graphs())
def test_a_dag_is_refused_exactly_when_its_dependencies_hold_a_cycle(
    nodes: dict[str, list[str]],
) -> None:
    source = dag(nodes)
    if _has_cycle(nodes):
        [(_, _, message)] = errors_of(source)
        assert "in a cycle" in message
    else:
        assert len(parse_flow(source).task("dag").child_task_lists()[0]) == len(nodes)


def test_a_dags_task_ids_count_with_the_flows_when_checking_they_are_unique() -> None:
    source = dag({"a": [], "b": ["a"]}) + f"  - id: b\n    type: {LOG}\n    message: again\n"
    assert [m for _, _, m in errors_of(source)] == ["Task id 'b' is used more than once"]


def test_task_defaults_complete_tasks_deep_in_flowables_and_dags() -> None:
    definition = parse_flow(
        dag({"a": []}).replace("          message: hi\n", "")
        + f"""  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: inner
        type: {LOG}
taskDefaults:
  - type: io.kestra.plugin.core.log.Log
    values:
      message: from the defaults
      level: DEBUG
"""
    )
    for task_id in ("a", "inner"):
        task = definition.task(task_id)
        assert isinstance(task, LogTask)
        assert (task.message, task.level) == ("from the defaults", "DEBUG")


def test_a_task_default_without_a_type_is_named_where_it_is() -> None:
    source = f"id: x\nnamespace: dev\ntaskDefaults:\n  - values: {{level: WARN}}\ntasks:\n  - id: a\n    type: {LOG}\n    message: m\n"
    assert errors_of(source) == [(4, 5, "Missing required property 'type'")]


def test_allow_warning_log_level_and_log_to_file_are_accepted_on_any_task() -> None:
    source = f"""id: x
namespace: dev
tasks:
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    allowWarning: true
    logLevel: DEBUG
    tasks:
      - id: a
        type: {LOG}
        message: m
        allowWarning: true
        logLevel: ERROR
        logToFile: true
"""
    task = parse_flow(source).task("a")
    assert (task.allow_warning, task.log_level, task.log_to_file) == (True, "ERROR", True)


def test_a_log_level_that_is_not_a_level_is_refused_and_worker_group_stays_refused() -> None:
    source = f"id: x\nnamespace: dev\ntasks:\n  - id: a\n    type: {LOG}\n    message: m\n    logLevel: LOUD\n    workerGroup: {{key: gpu}}\n"
    messages = [m for _, _, m in errors_of(source)]
    assert messages[0].startswith("'logLevel': Input should be 'TRACE', 'DEBUG', 'INFO'")
    assert messages[1] == "'workerGroup' is not supported yet by Flowsite"


@pytest.mark.parametrize(
    "task",
    [
        "type: io.kestra.plugin.core.flow.Template\n    namespace: dev\n    templateId: t",
        "type: io.kestra.plugin.core.execution.Resume\n    executionId: '{{ trigger.executionId }}'",
        "type: io.kestra.core.tasks.trigger.Toggle\n    trigger: schedule\n    enabled: true",
        "type: io.kestra.plugin.core.state.Set\n    name: s\n    data: {value: 1}",
        "type: io.kestra.plugin.core.state.Get\n    errorOnMissing: true",
        "type: io.kestra.plugin.core.state.Delete\n    taskrunValue: false\n    namespace: true",
        f"type: io.kestra.plugin.core.flow.AllowFailure\n    tasks:\n      - id: b\n        type: {LOG}\n        message: m",
    ],
)
def test_the_older_task_types_of_kestras_test_flows_are_accepted(task: str) -> None:
    assert parse_flow(f"id: x\nnamespace: dev\ntasks:\n  - id: a\n    {task}\n").tasks


def test_a_toggle_needs_the_trigger_it_toggles() -> None:
    source = (
        "id: x\nnamespace: dev\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.trigger.Toggle\n"
    )
    assert errors_of(source) == [(4, 5, "Missing required property 'trigger'")]


def test_the_editor_schema_offers_the_new_task_types() -> None:
    text = str(flow_schema())
    for name in (
        "flow.Dag",
        "flow.AllowFailure",
        "state.Set",
        "execution.Resume",
        "trigger.Toggle",
    ):
        assert f"io.kestra.plugin.core.{name}" in text


# Kestra's flowable-with-parent-fail: a for tag inside {{ }} is not an expression. Pebble
# reads `{` there as the start of a map literal, meets the `%` operator where a key should
# be, and refuses to parse; Kestra's If then fails. Flowsite refuses it the same way.
PEBBLE_CANNOT_PARSE = (
    "{{parents[0].taskrun.value == 'CUMULATIVE' and "
    "{% for entry in json(taskrun.value) %}{{ entry.key }}{% endfor %}== 'NEW_MONTH'}}"
)


def test_a_for_tag_inside_an_expression_is_refused_as_pebble_refuses_it() -> None:
    context = {
        "parents": [{"taskrun": {"value": "CUMULATIVE"}}],
        "taskrun": {"value": '{"NEW_MONTH": "2018-01-01"}'},
    }
    with pytest.raises(ExpressionError) as caught:
        render(PEBBLE_CANNOT_PARSE, context)
    assert "'%'" in caught.value.reason


def test_the_same_condition_written_as_pebble_reads_it_is_decided() -> None:
    context = {
        "parents": [{"taskrun": {"value": "CUMULATIVE"}}],
        "taskrun": {"value": '{"NEW_MONTH": "2018-01-01"}'},
    }
    condition = (
        "{{ parents[0].taskrun.value == 'CUMULATIVE' and "
        "(json(taskrun.value) | keys | first) == 'NEW_MONTH' }}"
    )
    assert render(condition, context) == "true"
    assert render("{{ {'a': 1} }}", {}) == '{"a":1}'


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.sampled_from([LOG, "io."])
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["type", "values", "forced", "message", "level", "id"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(_values)
def test_any_task_defaults_either_apply_or_are_refused_with_a_located_message(
    declared: object,
) -> None:
    source = yaml.safe_dump(
        {
            "id": "x",
            "namespace": "dev",
            "taskDefaults": declared,
            "tasks": [{"id": "a", "type": LOG, "message": "m"}],
        }
    )
    try:
        parse_flow(source)
    except FlowInvalid as exc:
        assert all(error.line >= 1 and error.message for error in exc.errors)


def test_the_editor_outline_draws_a_dags_tasks_at_their_place_in_the_yaml() -> None:
    [entry] = flow_outline(dag({"a": [], "b": ["a"]}))["tasks"]
    assert entry["layout"] == "tasks-side-by-side"
    [branch] = entry["branches"]
    assert [(t["id"], t["line"], t["path"]) for t in branch["tasks"]] == [
        ("a", 8, "tasks[0].tasks[0].task"),
        ("b", 12, "tasks[0].tasks[1].task"),
    ]

from __future__ import annotations

import pytest
from django.test import Client

from flows.models import Flow

pytestmark = pytest.mark.django_db


def test_checking_returns_errors_with_line_and_column_and_saves_nothing(
    alice, client: Client
) -> None:
    client.force_login(alice)
    source = "id: x\nnamespace: dev\ntasks:\n  - id: a\n    type: Log\n    message: m\n  - id: b\n    type: Nope\n"
    body = client.post("/flows/check/", {"source": source}).json()
    assert body["errors"] == [
        {"message": "Unknown task type 'Nope'", "line": 8, "column": 11, "path": "tasks[1].type"}
    ]
    assert body["tasks"] == [
        {"id": "a", "type": "Log", "line": 4, "column": 5, "path": "tasks[0]"},
        {"id": "b", "type": "Nope", "line": 7, "column": 5, "path": "tasks[1]"},
    ]
    assert body["sections"] == []
    assert not Flow.objects.exists()


def test_unreadable_yaml_has_its_error_and_no_outline(alice, client: Client) -> None:
    client.force_login(alice)
    body = client.post("/flows/check/", {"source": "id: x\n  bad: [\n"}).json()
    assert body["tasks"] == [] and body["errors"][0]["message"].startswith("Invalid YAML")


LOG = "io.kestra.plugin.core.log.Log"
NESTED = f"""\
id: nested
namespace: dev
tasks:
  - id: check
    type: io.kestra.plugin.core.flow.If
    condition: "{{{{ inputs.go }}}}"
    then:
      - id: go
        type: {LOG}
        message: go
    else:
      - id: stop
        type: {LOG}
        message: stop
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: a
        type: {LOG}
        message: a
      - id: b
        type: {LOG}
        message: b
  - id: pick
    type: io.kestra.plugin.core.flow.Switch
    value: "{{{{ inputs.size }}}}"
    cases:
      small:
        - id: little
          type: {LOG}
          message: little
      large:
        - id: big
          type: {LOG}
          message: big
    defaults:
      - id: unknown
        type: {LOG}
        message: unknown
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [1, 2]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: deep
            type: {LOG}
            message: "{{{{ taskrun.value }}}}"
errors:
  - id: alert
    type: {LOG}
    message: failed
finally:
  - id: tidy
    type: {LOG}
    message: done
"""


def _shape(tasks: list[dict]) -> list:
    """Ids with their line, and each flowable's branches by label: the tree at a glance."""
    return [
        (task["id"], task["line"])
        if "branches" not in task
        else (task["id"], task["line"], {b["label"]: _shape(b["tasks"]) for b in task["branches"]})
        for task in tasks
    ]


def _check(client: Client, source: str) -> dict:
    return client.post("/flows/check/", {"source": source}).json()


def test_the_outline_holds_every_nested_task_with_its_own_line(alice, client: Client) -> None:
    client.force_login(alice)
    body = _check(client, NESTED)
    assert body["errors"] == []
    assert _shape(body["tasks"]) == [
        ("check", 4, {"then": [("go", 8)], "else": [("stop", 12)]}),
        ("fan", 15, {"tasks": [("a", 18), ("b", 21)]}),
        (
            "pick",
            24,
            {"small": [("little", 29)], "large": [("big", 33)], "defaults": [("unknown", 37)]},
        ),
        ("each", 40, {"tasks": [("inner", 44, {"tasks": [("deep", 47)]})]}),
    ]


def test_the_outline_says_how_each_flowable_lays_out_its_children(alice, client: Client) -> None:
    client.force_login(alice)
    layouts = {task["id"]: task["layout"] for task in _check(client, NESTED)["tasks"]}
    assert layouts == {
        "check": "branches-side-by-side",
        "fan": "tasks-side-by-side",
        "pick": "branches-side-by-side",
        "each": "stacked",
    }


def test_errors_and_finally_are_sections_of_the_outline(alice, client: Client) -> None:
    client.force_login(alice)
    sections = _check(client, NESTED)["sections"]
    assert [(s["label"], _shape(s["tasks"])) for s in sections] == [
        ("errors", [("alert", 51)]),
        ("finally", [("tidy", 55)]),
    ]


def test_a_nested_task_carries_the_path_its_errors_are_reported_at(alice, client: Client) -> None:
    client.force_login(alice)
    source = NESTED.replace(f"id: stop\n        type: {LOG}", "id: stop\n        type: Nope")
    body = _check(client, source)
    stop = body["tasks"][0]["branches"][1]["tasks"][0]
    assert stop == {
        "id": "stop",
        "type": "Nope",
        "line": 12,
        "column": 9,
        "path": "tasks[0].else[0]",
    }
    assert [(e["path"], e["line"]) for e in body["errors"]] == [("tasks[0].else[0].type", 13)]
    switch = body["tasks"][2]
    assert switch["branches"][1]["tasks"][0]["path"] == "tasks[2].cases.large[0]"


def test_an_invalid_flow_still_has_its_nested_outline(alice, client: Client) -> None:
    client.force_login(alice)
    # Half typed: the If has no condition yet and its type is being rewritten.
    source = (
        "id: x\nnamespace: dev\ntasks:\n"
        "  - id: branch\n    type: io.kestra.plugin.core.flow.I\n"
        "    then:\n      - id: yes_\n        type: Log\n        message: y\n"
    )
    body = _check(client, source)
    assert body["errors"]
    assert _shape(body["tasks"]) == [("branch", 4, {"then": [("yes_", 7)]})]


def test_a_task_that_holds_no_tasks_has_no_branches(alice, client: Client) -> None:
    client.force_login(alice)
    source = f"id: x\nnamespace: dev\ntasks:\n  - id: a\n    type: {LOG}\n    message: m\n"
    (task,) = _check(client, source)["tasks"]
    assert "branches" not in task and "layout" not in task

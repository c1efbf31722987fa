"""Flows Kestra's own validation refuses are refused here too, with Kestra's words: a
Switch with nothing to run, and a WorkingDirectory holding a flowable task."""

from __future__ import annotations

import pytest

from flows.language import FlowInvalid, parse_flow

SWITCH = """id: switch
namespace: dev
tasks:
  - id: pick
    type: io.kestra.plugin.core.flow.Switch
    value: "{{ inputs.x }}"
    cases: CASES
    defaults: DEFAULTS
"""
LOG = "[{id: say, type: io.kestra.plugin.core.log.Log, message: hi}]"


def test_a_switch_with_neither_cases_nor_defaults_is_refused() -> None:
    with pytest.raises(FlowInvalid, match="neither cases or default have any tasks"):
        parse_flow(SWITCH.replace("CASES", "{}").replace("DEFAULTS", "null"))


def test_a_switch_with_only_empty_cases_is_refused() -> None:
    with pytest.raises(FlowInvalid, match="neither cases or default have any tasks"):
        parse_flow(SWITCH.replace("CASES", "{A: []}").replace("DEFAULTS", "[]"))


@pytest.mark.parametrize(
    ("cases", "defaults"),
    [(f"{{A: {LOG}}}", "null"), ("{}", LOG), (f"{{A: {LOG}}}", LOG.replace("say", "other"))],
)
def test_a_switch_with_a_case_or_defaults_is_accepted(cases: str, defaults: str) -> None:
    parse_flow(SWITCH.replace("CASES", cases).replace("DEFAULTS", defaults))


WORKING_DIRECTORY = """id: shared
namespace: dev
tasks:
  - id: together
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: first
        type: io.kestra.plugin.core.log.Log
        message: one
      - CHILD
"""


def test_a_working_directory_refuses_a_flowable_child() -> None:
    pause = "id: wait\n        type: io.kestra.plugin.core.flow.Pause\n        pauseDuration: PT1S"
    with pytest.raises(FlowInvalid, match="Only runnable tasks are allowed as children"):
        parse_flow(WORKING_DIRECTORY.replace("CHILD", pause))


def test_a_working_directory_of_leaf_tasks_is_accepted() -> None:
    script = (
        "id: write\n        type: io.kestra.plugin.scripts.shell.Commands\n"
        "        commands: [echo hi > f.txt]"
    )
    parse_flow(WORKING_DIRECTORY.replace("CHILD", script))

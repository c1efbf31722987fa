"""The flowable tasks' properties as the language reads them: whatever is written where
a WorkingDirectory, LoopUntil, ForEachItem, Each or Pause property goes, the flow is
either accepted or refused with an error naming the line, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.language import FlowInvalid, parse_flow
from flows.language.tasks import ForEachItemTask, LoopUntilTask, PauseTask

LOG = "{id: inner, type: io.kestra.plugin.core.log.Log, message: hi}"

HOLDERS = {
    "io.kestra.plugin.core.flow.WorkingDirectory": ("inputFiles", "outputFiles", "cache"),
    "io.kestra.plugin.core.flow.LoopUntil": ("condition", "checkFrequency", "failOnMaxReached"),
    "io.kestra.core.tasks.flows.EachParallel": ("value", "concurrent"),
    "io.kestra.plugin.core.flow.Pause": ("pauseDuration", "behavior", "onResume"),
    "io.kestra.plugin.core.flow.Sequential": ("errors", "finally", "retry"),
}

values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def flow_with(task_type: str, prop: str, value: Any) -> str:
    extra = {
        "io.kestra.plugin.core.flow.LoopUntil": "    condition: '{{ true }}'\n",
        "io.kestra.core.tasks.flows.EachParallel": "    value: [a]\n",
    }.get(task_type, "")
    if prop in ("condition", "value"):
        extra = ""
    return (
        "id: fuzzed\nnamespace: dev\ntasks:\n  - id: holder\n"
        f"    type: {task_type}\n{extra}    tasks:\n      - {LOG}\n"
        f"    {prop}: {json.dumps(value)}\n"
    )


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(HOLDERS)), st.data(), values)
def test_any_value_of_a_flowable_property_is_accepted_or_refused_at_its_line(
    task_type: str, data: st.DataObject, value: Any
) -> None:
    prop = data.draw(st.sampled_from(HOLDERS[task_type]))
    try:
        parse_flow(flow_with(task_type, prop, value))
    except FlowInvalid as exc:
        assert all(error.line >= 1 for error in exc.errors)


def test_the_newer_and_older_names_of_each_flowable_are_accepted() -> None:
    assert LoopUntilTask.type_names() == (
        "io.kestra.plugin.core.flow.LoopUntil",
        "io.kestra.plugin.core.flow.WaitFor",
    )
    assert "io.kestra.core.tasks.flows.ForEachItem" in ForEachItemTask.type_names()
    assert "io.kestra.core.tasks.flows.Pause" in PauseTask.type_names()


def test_a_pause_behavior_outside_kestras_list_is_refused_naming_it() -> None:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(
            "id: p\nnamespace: dev\ntasks:\n  - id: wait\n"
            "    type: io.kestra.plugin.core.flow.Pause\n    behavior: SNOOZE\n"
        )
    assert [(error.line, "behavior" in str(error)) for error in caught.value.errors] == [(6, True)]


def test_a_for_each_item_without_a_flow_to_run_is_refused() -> None:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(
            "id: p\nnamespace: dev\ntasks:\n  - id: each\n"
            "    type: io.kestra.plugin.core.flow.ForEachItem\n    items: '{{ inputs.f }}'\n"
        )
    assert "namespace and flowId" in str(caught.value)

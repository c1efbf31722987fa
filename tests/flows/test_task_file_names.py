"""A script task's file names and patterns stay inside its working directory; saving a
flow refuses one that would leave it, and accepts the spellings glob users write."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows.language import FlowInvalid, parse_flow
from flows.language.tasks import ScriptTask
from tests.flows_helpers import flow_yaml

SCRIPT = "  - id: t\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: ['true']\n"


@pytest.mark.parametrize("pattern", ["*.csv", "out/**", "./*.csv", "./out/report.json"])
def test_an_output_pattern_inside_the_working_directory_is_accepted(pattern: str) -> None:
    definition = parse_flow(flow_yaml(SCRIPT + f"    outputFiles: ['{pattern}']\n"))
    task = definition.tasks[0]
    assert isinstance(task, ScriptTask)
    assert task.output_files == [pattern]


@pytest.mark.parametrize("pattern", ["../up.csv", "./../up.csv", "/etc/*", "out/../../x"])
def test_an_output_pattern_that_climbs_out_is_refused(pattern: str) -> None:
    with pytest.raises(FlowInvalid, match="outputFiles pattern '.*' must be a relative path"):
        parse_flow(flow_yaml(SCRIPT + f"    outputFiles: ['{pattern}']\n"))


@pytest.mark.parametrize("name", ["./x", "a//b"])
def test_an_input_file_name_with_two_spellings_is_refused_on_save(name: str) -> None:
    # The runner refuses these too; saving says so before the flow ever runs.
    with pytest.raises(FlowInvalid, match=f"inputFiles name '{name}' must be a relative path"):
        parse_flow(flow_yaml(SCRIPT + f"    inputFiles:\n      '{name}': y\n"))


def test_a_long_timeout_is_written_back_in_a_spelling_that_reads_again() -> None:
    definition = parse_flow(flow_yaml(SCRIPT + "    timeout: P12DT0.5S\n"))
    task = definition.tasks[0]
    dumped = task.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert dumped["timeout"] == "PT288H0.5S"
    assert type(task).model_validate(dumped).timeout == timedelta(days=12, milliseconds=500)

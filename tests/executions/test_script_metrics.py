"""What a script says in Kestra's ``::{...}::`` lines: metrics kept per task run (summed by
name and tags, timers in milliseconds), log lines at their own level, and a line that
cannot be read kept as it is, with the reason beside it, never a crash."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executions.models import LogLine, State, TaskRunMetric
from executions.runners.commands import CommandInvalid, command_parse
from namespaces.models import Secret
from tests.flows_helpers import PROCESS, flow_yaml, messages, run_here, save_flow

pytestmark = pytest.mark.django_db


def shell_printing(lines: list[str], *, flow_id: str = "says", extra: str = "") -> str:
    """A Process task that prints ``lines`` as they are, each on stdout."""
    content = base64.b64encode(("\n".join(lines) + "\n").encode()).decode()
    return flow_yaml(
        f"  - id: say\n    type: shell.Commands\n    taskRunner: {{type: {PROCESS}}}\n{extra}"
        f"    commands: ['echo {content} | base64 -d']\n",
        flow_id=flow_id,
    )


def command(**payload) -> str:
    return "::" + json.dumps(payload) + "::"


def counter(name: str, value, **tags) -> dict:
    return {"name": name, "type": "counter", "value": value, "tags": tags}


def test_it_keeps_metrics_summed_by_name_and_tags_with_timers_in_milliseconds() -> None:
    execution = run_here(
        save_flow(
            shell_printing(
                [
                    command(metrics=[counter("rows", 3, table="a")]),
                    command(metrics=[counter("rows", 4, table="a"), counter("rows", 1, table="b")]),
                    command(metrics=[{"name": "load", "type": "timer", "value": 1.5}]),
                    command(metrics=[{"name": "load", "type": "timer", "value": "PT0.25S"}]),
                    command(metrics=[{"name": "queue", "type": "gauge", "value": 7}]),
                    command(metrics=[{"name": "queue", "type": "gauge", "value": 2}]),
                    "plain output",
                ]
            )
        )
    )
    assert execution.state == State.SUCCESS
    kept = {
        (m.name, m.type, tuple(m.tags.items())): m.value
        for m in TaskRunMetric.objects.filter(execution=execution)
    }
    assert kept == {
        ("rows", "counter", (("table", "a"),)): 7,
        ("rows", "counter", (("table", "b"),)): 1,
        ("load", "timer", ()): 1750,
        ("queue", "gauge", ()): 2,
    }
    assert messages(execution) == ["plain output"]  # no ::{...}:: noise


def test_it_logs_each_log_entry_at_its_level_with_its_message() -> None:
    logs = [
        {"level": "DEBUG", "message": "looking"},
        {"level": "INFO", "message": "found 3"},
        {"level": "WARN", "message": "one is old"},
        {"level": "ERROR", "message": "one is broken"},
    ]
    execution = run_here(
        save_flow(shell_printing([command(logs=logs[:2]), command(logs=logs[2:])]))
    )
    lines = LogLine.objects.filter(execution=execution).order_by("id")
    assert [(line.level, line.message) for line in lines] == [
        (entry["level"], entry["message"]) for entry in logs
    ]
    assert execution.state == State.SUCCESS  # said on stdout: nothing on stderr


def test_a_log_entry_said_on_stderr_counts_as_stderr_output_as_in_kestra() -> None:
    line = command(logs=[{"level": "WARN", "message": "careful"}])
    extra = "    warningOnStdErr: true\n"
    source = shell_printing([line], flow_id="warns", extra=extra)
    source = source.replace("base64 -d", "base64 -d >&2")
    execution = run_here(save_flow(source))
    assert execution.state == State.WARNING
    assert [(li.level, li.message) for li in LogLine.objects.filter(execution=execution)] == [
        ("WARN", "careful")
    ]


def test_outputs_metrics_and_logs_may_come_in_one_line() -> None:
    line = command(
        outputs={"rows": 3}, metrics=[counter("rows", 3)], logs=[{"level": "INFO", "message": "ok"}]
    )
    execution = run_here(save_flow(shell_printing([line])))
    task_run = execution.task_runs.get()
    assert task_run.outputs["vars"] == {"rows": 3}
    assert task_run.metrics.get().value == 3
    assert messages(execution) == ["ok"]


MALFORMED = [
    '::{"metrics": [{"name": "rows", "type": "counter"}]}::',
    '::{"metrics": [{"name": "rows", "type": "meter", "value": 1}]}::',
    '::{"metrics": [{"name": "", "type": "counter", "value": 1}]}::',
    '::{"metrics": [{"name": "t", "type": "timer", "value": "soon"}]}::',
    '::{"metrics": [{"name": "rows", "type": "counter", "value": NaN}]}::',
    '::{"metrics": {"name": "rows"}}::',
    '::{"logs": [{"level": "LOUD", "message": "x"}]}::',
    '::{"logs": [{"level": "INFO"}]}::',
    '::{"outputs": [1, 2]}::',
    '::{"outputs": {"a": 1}::',
    '::{"a": 1} {"b": 2}::',
]


@pytest.mark.parametrize("line", MALFORMED)
def test_a_malformed_command_is_kept_as_a_plain_line_with_the_reason_beside_it(line) -> None:
    execution = run_here(save_flow(shell_printing([line, "after"])))
    assert execution.state == State.SUCCESS
    said = list(
        LogLine.objects.filter(execution=execution).values_list("stream", "level", "message")
    )
    assert said[0] == ("stdout", "INFO", line)
    assert said[1][:2] == ("system", "WARN")
    assert said[1][2].startswith("A ::{...}:: line was kept as plain output: ")
    assert said[2] == ("stdout", "INFO", "after")
    assert not TaskRunMetric.objects.filter(execution=execution).exists()
    assert execution.task_runs.get().outputs == {"exitCode": 0}


def test_it_reads_commands_as_the_kestra_helper_prints_them() -> None:
    # Kestra.counter / Kestra.timer / Kestra.logger().info, as version 2.0 prints them.
    helper = [
        '::{"metrics": [{"name": "rows", "type": "counter", "value": 5, "tags": {"t": "x"}}]}::',
        '::{"metrics": [{"name": "took", "type": "timer", "value": 0.5, "tags": {}}]}::',
        '::{"logs": [{"level": "INFO", "message": "2026-11-30T10:00:00.000Z - hello"}]}::',
    ]
    parsed = [command_parse(line) for line in helper]
    assert [m.value for c in parsed if c for m in c.metrics] == [5, 500]
    assert parsed[2] is not None and parsed[2].logs[0].message.endswith("- hello")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
# Entries near a real metric or log entry, so that the checks past the first are reached.
entries = st.dictionaries(
    st.sampled_from(["name", "type", "value", "tags", "level", "message"]),
    json_values | st.sampled_from(["counter", "timer", "gauge", "INFO", "WARN", "PT1S", "3"]),
    max_size=5,
)
payloads = st.dictionaries(
    st.sampled_from(["outputs", "metrics", "logs", "assets", "other"]),
    json_values | st.lists(entries, max_size=3),
    max_size=3,
)
parser_settings = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@parser_settings
@given(payloads)
def test_any_json_command_is_read_or_refused_with_a_reason_never_a_crash(payload) -> None:
    try:
        command_parse("::" + json.dumps(payload) + "::")
    except CommandInvalid as exc:
        assert str(exc)


@parser_settings
@given(st.text(max_size=60).map(lambda text: "::{" + text + "}::"))
def test_any_text_between_the_colons_is_read_or_refused_never_a_crash(line) -> None:
    try:
        command_parse(line)
    except CommandInvalid as exc:
        assert str(exc)


lines_that_look_like_commands = st.lists(
    st.one_of(
        st.builds(lambda p: "::" + json.dumps(p) + "::", payloads),
        st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30).map(
            lambda text: "::{" + text + "}::"
        ),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines_that_look_like_commands)
def test_a_real_task_printing_any_such_lines_ends_without_a_crash(lines) -> None:
    execution = run_here(save_flow(shell_printing([*lines, "the end"])))
    assert execution.state == State.SUCCESS
    said = messages(execution)
    assert said[-1] == "the end"
    assert not any("Flowsite failed" in line for line in said)


def test_a_runaway_script_keeps_its_first_thousand_metrics_and_says_so() -> None:
    source = flow_yaml(
        f"  - id: flood\n    type: shell.Commands\n    taskRunner: {{type: {PROCESS}}}\n"
        "    commands:\n"
        "      - 'i=0; while [ $i -lt 1500 ]; do "
        'echo "::{\\"metrics\\": [{\\"name\\": \\"m$i\\", \\"type\\": \\"counter\\", '
        '\\"value\\": 1}]}::"; i=$((i+1)); done\'\n',
        flow_id="flood",
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.SUCCESS
    assert TaskRunMetric.objects.filter(execution=execution).count() == 1000
    assert messages(execution) == ["Kept the first 1000 metrics, ignored the others"]


def test_a_secret_in_a_metrics_name_or_tags_is_hidden_as_in_the_logs() -> None:
    Secret.store(namespace="dev", key="TOKEN", value="tok-4242-secret")
    line = command(metrics=[counter("calls tok-4242-secret", 1, key="tok-4242-secret")])
    # Rendered for the task, so that the writer knows the value to hide.
    extra = "    env: {T: \"{{ secret('TOKEN') }}\"}\n"
    source = shell_printing([line], flow_id="secretive", extra=extra)
    execution = run_here(save_flow(source))
    metric = TaskRunMetric.objects.get(execution=execution)
    assert (metric.name, metric.tags) == ("calls ******", {"key": "******"})

from __future__ import annotations

import pytest

from flows.language import FlowInvalid, parse_flow
from flows.language.tasks import LogTask, ScriptTask
from tests.flows_helpers import flow_yaml


def errors_of(source: str) -> list[tuple[int, int, str]]:
    with pytest.raises(FlowInvalid) as caught:
        parse_flow(source)
    return [(e.line, e.column, e.message) for e in caught.value.errors]


def test_broken_yaml_is_refused_with_its_line_and_column() -> None:
    source = "id: x\nnamespace: dev\ntasks:\n  - id: a\n   type: Log\n"
    [(line, column, message)] = errors_of(source)
    assert (line, column) == (5, 4)
    assert message.startswith("Invalid YAML")


def test_an_unknown_task_type_is_named_at_its_task() -> None:
    source = flow_yaml("  - id: a\n    type: io.kestra.plugin.nope.Task\n")
    assert errors_of(source) == [(6, 9, "Unknown task type 'io.kestra.plugin.nope.Task'")]


def test_a_missing_property_is_named() -> None:
    source = flow_yaml("  - id: a\n    type: io.kestra.plugin.scripts.python.Script\n")
    assert errors_of(source) == [(5, 3, "Missing required property 'script'")]


def test_an_unknown_property_points_at_its_key() -> None:
    source = flow_yaml("  - id: a\n    type: Log\n    message: hi\n    colour: red\n")
    assert errors_of(source) == [(8, 3, "Unknown property 'colour'")]


def test_keys_of_later_issues_say_they_are_not_supported_yet_instead_of_crashing() -> None:
    source = "id: x\nnamespace: dev\nchecks:\n  - id: slow\n    type: MAX_DURATION\n" + (
        "tasks:\n  - id: a\n    type: Log\n    message: hi\n    workerGroup:\n      key: gpu\n"
    )
    errors = errors_of(source)
    assert errors == [
        (3, 1, "'checks' is not supported yet by Flowsite"),
        (10, 5, "'workerGroup' is not supported yet by Flowsite"),
    ]


def test_a_duplicate_key_is_refused() -> None:
    assert errors_of("id: a\nid: b\n") == [(2, 1, "Duplicate key 'id'")]


def test_every_error_of_a_flow_is_reported_at_once() -> None:
    source = "id: x\nnamespace: Dev\ntasks:\n  - id: a\n    type: Log\n  - id: b\n    type: X\n"
    lines = [line for line, _, _ in errors_of(source)]
    assert lines == [2, 4, 7]


@pytest.mark.parametrize("namespace", ["Dev", "company..team", ".company", "company.", "a b"])
def test_namespaces_follow_kestras_rules(namespace: str) -> None:
    source = f"id: x\nnamespace: '{namespace}'\ntasks:\n  - id: a\n    type: Log\n    message: hi\n"
    [(line, _, message)] = errors_of(source)
    assert line == 2 and message.startswith(f"Invalid namespace '{namespace}'")


@pytest.mark.parametrize("namespace", ["dev", "company.team", "company.data.etl-2", "a_b.c"])
def test_dotted_lowercase_namespaces_are_accepted(namespace: str) -> None:
    source = f"id: x\nnamespace: {namespace}\ntasks:\n  - id: a\n    type: Log\n    message: hi\n"
    assert parse_flow(source).namespace == namespace


def test_task_ids_must_be_unique() -> None:
    source = flow_yaml("  - id: a\n    type: Log\n    message: hi\n" * 2)
    [(_, _, message)] = errors_of(source)
    assert message == "Task id 'a' is used more than once"


@pytest.mark.parametrize(
    "task_type",
    [
        "io.kestra.plugin.core.log.Log",
        "io.kestra.core.tasks.log.Log",
        "Log",
    ],
)
def test_the_log_task_is_known_by_its_kestra_names_and_alias(task_type: str) -> None:
    flow = parse_flow(flow_yaml(f"  - id: a\n    type: {task_type}\n    message: [one, two]\n"))
    task = flow.tasks[0]
    assert isinstance(task, LogTask)
    assert task.messages == ["one", "two"]


@pytest.mark.parametrize(
    ("task_type", "body"),
    [
        ("io.kestra.plugin.scripts.python.Script", "script: print(1)"),
        ("python.Script", "script: print(1)"),
        ("io.kestra.plugin.scripts.python.Commands", "commands: [python -V]"),
        ("python.Commands", "commands: [python -V]"),
        ("io.kestra.plugin.scripts.shell.Script", "script: echo 1"),
        ("shell.Script", "script: echo 1"),
        ("io.kestra.plugin.scripts.shell.Commands", "commands: [echo 1]"),
        ("shell.Commands", "commands: [echo 1]"),
    ],
)
def test_script_tasks_are_known_by_their_kestra_names_and_short_aliases(
    task_type: str, body: str
) -> None:
    task = parse_flow(flow_yaml(f"  - id: a\n    type: {task_type}\n    {body}\n")).tasks[0]
    assert isinstance(task, ScriptTask)
    assert task.command_lines()
    assert not task.uses_process_runner  # Docker is the default, as in Kestra
    assert task.warning_on_std_err is True


def test_the_task_runner_block_sets_the_runner_and_its_limits() -> None:
    task = parse_flow(
        flow_yaml(
            """\
              - id: a
                type: io.kestra.plugin.scripts.shell.Commands
                containerImage: alpine:3
                commands: [echo 1]
                timeout: PT1M30S
                taskRunner:
                  type: io.kestra.plugin.scripts.runner.docker.Docker
                  pullPolicy: NEVER
                  memory:
                    memory: 512MB
                  cpu:
                    cpus: 1.5
            """
        )
    ).tasks[0]
    assert isinstance(task, ScriptTask)
    assert task.image("default") == "alpine:3"
    assert (task.pull_policy, task.memory_bytes, task.cpus) == ("NEVER", 512 * 1024**2, 1.5)
    assert task.timeout_seconds == 90


def test_the_older_docker_and_runner_forms_still_work() -> None:
    task = parse_flow(
        flow_yaml(
            """\
              - id: a
                type: io.kestra.plugin.scripts.python.Script
                runner: DOCKER
                docker:
                  image: docker.io/python:2.7.18-slim-stretch
                  pullPolicy: ALWAYS
                script: print "hi"
              - id: b
                type: io.kestra.plugin.scripts.python.Script
                runner: PROCESS
                script: print("hi")
            """
        )
    ).tasks
    docker, process = task
    assert isinstance(docker, ScriptTask) and isinstance(process, ScriptTask)
    assert docker.image("x") == "docker.io/python:2.7.18-slim-stretch"
    assert docker.pull_policy == "ALWAYS" and not docker.uses_process_runner
    assert process.uses_process_runner


def test_the_process_task_runner_is_recognised() -> None:
    source = flow_yaml(
        "  - id: a\n    type: shell.Commands\n    commands: [echo]\n"
        "    taskRunner:\n      type: io.kestra.plugin.core.runner.Process\n"
    )
    task = parse_flow(source).tasks[0]
    assert isinstance(task, ScriptTask)
    assert task.uses_process_runner


def test_a_timeout_must_be_an_iso_8601_duration() -> None:
    source = flow_yaml("  - id: a\n    type: Log\n    message: hi\n    timeout: 5 minutes\n")
    assert errors_of(source) == [
        (8, 12, "'5 minutes' is not an ISO-8601 duration such as PT30S or PT1H")
    ]


def test_a_bad_pull_policy_lists_the_allowed_ones() -> None:
    source = flow_yaml(
        "  - id: a\n    type: shell.Commands\n    commands: [echo]\n"
        "    docker:\n      pullPolicy: SOMETIMES\n"
    )
    [(line, column, message)] = errors_of(source)
    assert (line, column) == (9, 17)
    assert "'IF_NOT_PRESENT', 'ALWAYS' or 'NEVER'" in message


def test_labels_may_be_a_mapping_or_a_list_of_key_values() -> None:
    mapping = "id: x\nnamespace: dev\nlabels:\n  team: data\ntasks:\n  - id: a\n    type: Log\n    message: m\n"
    listed = mapping.replace("  team: data\n", "  - key: team\n    value: data\n")
    assert parse_flow(mapping).labels == parse_flow(listed).labels == {"team": "data"}


def test_an_empty_document_and_a_list_are_not_flows() -> None:
    assert errors_of("") == [(1, 1, "The flow is empty")]
    assert errors_of("- a\n")[0][2].startswith("A flow must be a YAML mapping")

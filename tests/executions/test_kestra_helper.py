"""The ``kestra`` PyPI helper in a real python task, installed from PyPI through the
machine's proxy: its outputs, counters, timers and logger arrive as Kestra shows them, in
a container and in a Process task. And python tasks' ``dependencies`` (Kestra 0.23+)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from executions.lifecycle import execution_start
from executions.models import LogLine, State, TaskRunMetric
from flows.language import FlowInvalid, parse_flow
from flows.language.tasks import PythonCommands
from flows.models import Flow
from tests.flows_helpers import PROCESS, finished, flow_yaml, messages, run_here, save_flow

# Installs take longer than a heartbeat: its thread writes while the test runs.
pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"
HELPER_SCRIPT = """\
from kestra import Kestra

Kestra.outputs({"rows": 3, "city": "Oslo"})
Kestra.counter("rows", 2, {"table": "orders"})
Kestra.counter("rows", 1, {"table": "orders"})
Kestra.timer("load", 0.25)
log = Kestra.logger()
log.debug("looking at 3 rows")
log.info("loaded 3 rows")
log.warning("1 row is old")
log.error("1 row is broken")
"""


def helper_task(setup: str, *, flow_id: str) -> str:
    script = "".join(f"      {line}\n" for line in HELPER_SCRIPT.splitlines())
    return flow_yaml(
        f"  - id: py\n    type: io.kestra.plugin.scripts.python.Script\n{setup}"
        # The helper sends warnings and errors on stderr: log lines, not a reason to warn.
        f"    warningOnStdErr: false\n    script: |\n{script}",
        flow_id=flow_id,
    )


def assert_the_helper_was_heard(execution) -> None:
    task_run = execution.task_runs.get()
    assert task_run.outputs["vars"] == {"rows": 3, "city": "Oslo"}
    metrics = {(m.name, m.type): (m.value, m.tags) for m in TaskRunMetric.objects.all()}
    assert metrics == {("rows", "counter"): (3, {"table": "orders"}), ("load", "timer"): (250, {})}
    logged = [
        (line.level, line.message.partition(" - ")[2])
        for line in LogLine.objects.filter(execution=execution, message__contains=" - ")
    ]
    # Two streams (debug and info on stdout, the others on stderr): no order between them.
    assert sorted(logged) == [
        ("DEBUG", "looking at 3 rows"),
        ("ERROR", "1 row is broken"),
        ("INFO", "loaded 3 rows"),
        ("WARN", "1 row is old"),
    ]
    assert not [line for line in messages(execution) if line.lstrip().startswith("::")]
    assert execution.state == State.SUCCESS


@pytest.mark.docker
def test_the_helper_installed_by_pip_in_a_container_reports_outputs_metrics_and_logs(
    docker_engine,
) -> None:
    setup = "    containerImage: python:3.11-slim\n    beforeCommands: [pip install -q kestra]\n"
    execution = run_here(save_flow(helper_task(setup, flow_id="helper-docker")))
    assert_the_helper_was_heard(execution)


def test_the_helper_as_a_dependency_of_a_process_task_reports_outputs_metrics_and_logs() -> None:
    setup = f"    taskRunner: {{type: {PROCESS}}}\n    dependencies: [kestra]\n"
    execution = run_here(save_flow(helper_task(setup, flow_id="helper-process")))
    assert_the_helper_was_heard(execution)
    # UV, Kestra's default: the worker's own uv, from its wheel.
    assert "Installing with uv into a new environment" in messages(execution)


@pytest.mark.parametrize(
    "runner",
    [f"taskRunner: {{type: {PROCESS}}}", "containerImage: python:3.11-slim"],
    ids=["process", "docker"],
)
def test_a_dependency_that_is_no_requirement_is_refused_at_save_naming_it(runner) -> None:
    source = flow_yaml(
        "  - id: py\n    type: io.kestra.plugin.scripts.python.Commands\n"
        f"    {runner}\n    packageManager: PIP\n"
        "    dependencies: ['not a requirement!!']\n    commands: [echo never runs]\n",
        flow_id="bad-dependency",
    )
    with pytest.raises(FlowInvalid) as refused:
        parse_flow(source)
    assert "dependencies[0] 'not a requirement!!' is not a requirement" in str(refused.value)


def test_a_python_version_other_than_the_tasks_is_a_warning_in_the_logs() -> None:
    source = flow_yaml(
        "  - id: py\n    type: io.kestra.plugin.scripts.python.Script\n"
        f"    taskRunner: {{type: {PROCESS}}}\n    pythonVersion: '2.7'\n"
        "    dependencies: [kestra]\n    script: import kestra; print('imported')\n",
        flow_id="other-python",
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.SUCCESS
    warnings = LogLine.objects.filter(execution=execution, level="WARN")
    [warning] = warnings.values_list("message", flat=True)
    assert warning.startswith("pythonVersion is 2.7 but this task runs Python 3.")
    assert "imported" in messages(execution)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    dependencies: ['--index-url=https://example.org']\n", "is an option, not a package"),
        ("    dependencies: ['']\n", "dependencies[0] is empty"),
        ("    pythonVersion: banana\n", "is not a Python version"),
        ("    packageManager: CONDA\n", "packageManager"),
        ("    dependencyCacheEnabled: maybe\n", "dependencyCacheEnabled"),
    ],
)
def test_bad_dependency_properties_are_refused_at_save_naming_them(extra, message) -> None:
    source = flow_yaml(
        "  - id: py\n    type: python.Script\n    script: print(1)\n" + extra, flow_id="bad"
    )
    with pytest.raises(FlowInvalid) as refused:
        parse_flow(source)
    assert message in str(refused.value)


def test_kestras_dependency_properties_are_accepted_with_kestras_defaults() -> None:
    source = flow_yaml(
        "  - id: py\n    type: io.kestra.plugin.scripts.python.Commands\n"
        "    dependencies: requests\n    pythonVersion: 3.12\n    commands: [python -V]\n",
        flow_id="defaults",
    )
    [task] = parse_flow(source).tasks
    assert isinstance(task, PythonCommands)
    setup = task.python_setup()
    assert setup is not None
    assert setup.dependencies == ("requests",)
    assert (setup.package_manager, setup.cache_enabled, setup.python_version) == (
        "UV",
        True,
        "3.12",
    )


@pytest.fixture
def uv_on_path(monkeypatch) -> str:
    """The worker's PATH, which Process tasks inherit, with the uv of the test extras."""
    uv = pytest.importorskip("uv")
    monkeypatch.setenv("PATH", str(Path(uv.find_uv_bin()).parent) + ":" + os.environ["PATH"])
    return uv.find_uv_bin()


@pytest.mark.parametrize(("manager", "installer"), [("UV", "uv"), ("PIP", "pip")])
def test_dependencies_install_with_uv_when_asked_and_there_else_with_pip(
    uv_on_path, manager, installer
) -> None:
    source = flow_yaml(
        "  - id: py\n    type: io.kestra.plugin.scripts.python.Script\n"
        f"    taskRunner: {{type: {PROCESS}}}\n    packageManager: {manager}\n"
        "    dependencies: [kestra]\n"
        "    script: |\n      from kestra import Kestra\n      Kestra.counter('n', 1)\n",
        flow_id=f"with-{installer}",
    )
    execution = run_here(save_flow(source))
    assert execution.state == State.SUCCESS, messages(execution)
    assert f"Installing with {installer} into a new environment" in messages(execution)
    assert not [line for line in messages(execution) if line.startswith("Installing with")][1:]
    assert execution.task_runs.get().metrics.get().value == 1


# Last: its worker lives until the module ends, and would race run_here for the jobs of
# any test after it.
@pytest.mark.docker
def test_the_python_metrics_and_logs_example_does_what_its_description_says(
    worker, docker_engine
) -> None:
    flow = Flow.save_source((EXAMPLES / "python-metrics-and-logs.yml").read_text())
    execution = finished(execution_start(flow=flow), timeout=240)
    assert execution.state == State.SUCCESS, messages(execution)
    counted = execution.task_runs.get(task_id="count_orders")
    assert counted.outputs["vars"] == {"big": 2}
    metrics = {(m.name, m.type, tuple(m.tags.items())): m.value for m in counted.metrics.all()}
    assert metrics == {
        ("orders", "counter", (("kind", "all"),)): 3,
        ("orders", "counter", (("kind", "big"),)): 2,
        ("check_seconds", "timer", ()): 200,
    }
    logged = [
        (line.level, line.message.partition(" - ")[2])
        for line in LogLine.objects.filter(task_run=counted, message__contains=" - ")
    ]
    assert sorted(logged) == [("INFO", "Checked 3 orders"), ("WARN", "1 small order(s)")]
    assert messages(execution)[-1] == "2 big orders"

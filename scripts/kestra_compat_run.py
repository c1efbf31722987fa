"""The Flowsite side of scripts/kestra_compat.py: check flows with Flowsite's own parser,
then save and run them on a real worker. Import it only once the environment names the
temporary Flowsite (kestra_compat._flowsite_environment): it sets Django up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import django

django.setup()

from executions.lifecycle import execution_kill, execution_start  # noqa: E402
from executions.models import Execution, LogLine, TaskRun  # noqa: E402
from flows.language import FlowInvalid, parse_new_flow  # noqa: E402
from flows.language.states import TERMINAL_STATES  # noqa: E402
from flows.models import Flow  # noqa: E402
from flows.process_check import process_runner_check  # noqa: E402

if TYPE_CHECKING:
    from scripts.kestra_compat_flows import FlowFile
    from scripts.kestra_compat_report import Expectation

# What one run came to: the expectation, the final state, its task runs, why it ended so,
# and the outputs the expectation names ("task.name": the first such task run's value).
Outcome = tuple["Expectation", str, int, str, dict[str, Any]]

AT_ONCE = 6  # executions under way together: the machine may be shared


def flowsite_prepare(*, root: Path) -> None:
    """The temporary database, migrated."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=root, check=True
    )


def flow_check(text: str) -> list[tuple[str, str]]:
    """Flowsite's verdict on a flow, as saving or Kestra's validate API gives it: the
    (message, path) of each error, none when it is accepted."""
    try:
        process_runner_check(parse_new_flow(text), text)
    except FlowInvalid as exc:
        return [(e.message, e.path) for e in exc.errors]
    return []


# What Kestra's own test server is configured with (its application-test.yml globals and
# the environment its build gives the tests), in Flowsite's settings.
KESTRA_TEST_SERVER = {
    "FLOWSITE_GLOBALS": json.dumps(
        {"string": "string", "int": 1, "bool": True, "nested": {"int": 2}}
    ),
    "FLOWSITE_ENV_TEST1": "true",
    "FLOWSITE_ENV_TEST2": "Pass by env",
}


def _worker_start(root: Path) -> subprocess.Popen[bytes]:
    """A real django-q2 cluster with the clock (``manage.py workers``), as Flowsite runs."""
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "workers"],
        cwd=root,
        env={**os.environ, **KESTRA_TEST_SERVER},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(3)  # its sentinel forks the workers; jobs enqueued meanwhile wait for them
    return worker


def _worker_stop(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    try:
        worker.wait(20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _what_happened(execution: Execution) -> str:
    """A line on why it ended where it did: the execution's error, a failed task's, or
    the last lines it logged."""
    if execution.error:
        return execution.error
    failed = TaskRun.objects.filter(execution=execution, state="FAILED").exclude(error="")
    if run := failed.first():
        child = Execution.objects.filter(parent_task_run=run).first()
        below = f" (child: {_what_happened(child)})" if child else ""
        return f"{run.task_id}: {run.error}{below}"
    last = LogLine.objects.filter(execution=execution, level__in=["ERROR", "WARN"]).last()
    return f"{last.task_id}: {last.message}" if last else ""


def flows_save(flows: Iterable[FlowFile]) -> dict[tuple[str, str], Flow]:
    """Every accepted flow, so that Subflows and Flow triggers find theirs; core's last,
    as Kestra's core tests see only those."""
    saved = {}
    for flow in sorted(flows, key=lambda f: f.path.startswith("core/")):
        if flow.key is not None:
            saved[flow.key] = Flow.save_source(flow.text)
    return saved


def flows_run(
    *,
    flows: Sequence[FlowFile],
    expectations: Sequence[Expectation],
    root: Path,
    timeout: float,
) -> list[Outcome]:
    """Run each flow Kestra's tests assert on and accepted here; what it came to."""
    saved = flows_save(flows)
    wanted = [e for e in expectations if (e.namespace, e.flow_id) in saved]
    worker = _worker_start(root)
    try:
        return expectations_run(expectations=wanted, saved=saved, timeout=timeout)
    finally:
        # What is still going (another of ``at_once``, a Flow trigger's run) ends first.
        for execution_id in Execution.objects.exclude(state__in=TERMINAL_STATES).values_list(
            "pk", flat=True
        ):
            execution_kill(execution_id=execution_id)
        _worker_stop(worker)


def expectations_run(
    *, expectations: Sequence[Expectation], saved: dict[tuple[str, str], Flow], timeout: float
) -> list[Outcome]:
    """Each expectation's flow run (a worker must be running), a few at a time."""
    results: list[Outcome] = []
    for start in range(0, len(expectations), AT_ONCE):
        results += _batch_run(expectations[start : start + AT_ONCE], saved, timeout)
    return results


def _outputs(execution: Execution, expected: Expectation) -> dict[str, Any]:
    found = {}
    for wanted in expected.outputs:
        run = TaskRun.objects.filter(execution=execution, task_id=wanted.task_id).first()
        if run is not None and wanted.name in run.outputs:
            found[f"{wanted.task_id}.{wanted.name}"] = run.outputs[wanted.name]
    return found


def _as_sent(inputs: dict[str, Any]) -> dict[str, str]:
    """Inputs as Kestra's API receives them, form fields: text (``true``, not True)."""
    return {k: json.dumps(v) if isinstance(v, bool) else str(v) for k, v in inputs.items()}


def _batch_run(
    batch: Sequence[Expectation],
    saved: dict[tuple[str, str], Flow],
    timeout: float,
) -> list[Outcome]:
    started: dict[int, Execution] = {}
    results: dict[int, Outcome] = {}
    for index, expected in enumerate(batch):
        try:
            flow = saved[(expected.namespace, expected.flow_id)]
            for _ in range(expected.at_once):  # the last is judged, the others end with it
                started[index] = execution_start(flow=flow, inputs=_as_sent(expected.inputs))
        except Exception as exc:  # noqa: BLE001 - a refusal to start is a result too
            results[index] = (expected, "NOT STARTED", 0, f"{type(exc).__name__}: {exc}", {})
    deadline = time.monotonic() + timeout
    waiting = set(started)
    while waiting and time.monotonic() < deadline:
        time.sleep(0.3)
        for index in list(waiting):
            if Execution.objects.filter(pk=started[index].pk, state__in=TERMINAL_STATES).exists():
                waiting.discard(index)
    for index, execution in started.items():
        execution.refresh_from_db()
        what = _what_happened(execution)
        if index in waiting:
            what = f"still {execution.state} after {timeout:.0f} s; {what}"
            execution_kill(execution_id=execution.pk)
        count = TaskRun.objects.filter(execution=execution).count()
        results[index] = (
            batch[index],
            execution.state,
            count,
            what,
            _outputs(execution, batch[index]),
        )
    return [results[i] for i in sorted(results)]

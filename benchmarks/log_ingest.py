"""How fast a task's output is stored (issue 14): a Process task printing a million lines
and a Docker task printing 200,000, in lines stored per second from the trigger to the
execution's SUCCESS, beside the same script run bare (its output read and thrown away),
with PYTHONUNBUFFERED=1 as Flowsite runs tasks: a write per line, which alone takes the
bare script from about 0.6 s to 3 s here."""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys

import yaml

from executions.models import LogLine
from flows.models import Flow

from .environment import NAMESPACE, BenchError
from .flows import PROCESS_RUNNER
from .latency import bare_measure, docker_unavailable, execution_measure
from .report import Report, secs
from .stack import Stack

TARGET = 100_000  # lines/s per task, on both databases
PROCESS_LINES = 1_000_000
DOCKER_LINES = 200_000
IMAGE = "python:3.11-slim"
RUNS = 3  # of each: the median is reported
UNBUFFERED = "PYTHONUNBUFFERED=1"  # as in every task's environment (runners/base.py)


def _script(lines: int) -> str:
    return f"for i in range({lines}): print(i)"


def _flow(flow_id: str, lines: int, *, process: bool) -> Flow:
    task: dict[str, object] = {
        "id": "print",
        "type": "io.kestra.plugin.scripts.shell.Commands",
        "commands": [f"python3 -c '{_script(lines)}'"],
    }
    if process:
        task["taskRunner"] = {"type": PROCESS_RUNNER}
    else:
        task["containerImage"] = IMAGE
    source = {"id": flow_id, "namespace": NAMESPACE, "tasks": [task]}
    return Flow.save_source(yaml.safe_dump(source, sort_keys=False))


def _rates(flow: Flow, lines: int, stack: Stack, timeout: float) -> list[float]:
    rates = []
    for _ in range(RUNS):
        sample = execution_measure(flow, stack, timeout)
        stored = LogLine.objects.filter(execution_id=sample.execution_id, stream="stdout")
        if (count := stored.count()) != lines:
            raise BenchError(f"{flow}: {count} of {lines} lines stored")
        rates.append(lines / sample.wall)
    return rates


def _rate_row(report: Report, name: str, rates: list[float], bare: list[float], lines: int) -> None:
    def fmt(rate: float) -> str:
        return f"{rate / 1000:,.1f}k lines/s"

    rate = statistics.median(rates)
    report.measured(name, rates, fmt, target=f">= {TARGET // 1000}k lines/s", ok=rate >= TARGET)
    floor = statistics.median(bare)
    report.derived(
        f"  the same script bare ({lines:,} lines)",
        secs(floor),
        spread=f"{lines / floor / 1000:,.0f}k lines/s; under Flowsite {lines / rate / floor:.1f}x",
    )


def ingest_measure(args: argparse.Namespace, stack: Stack, report: Report) -> None:
    report.section("ingest: a task printing many lines, stored (trigger to SUCCESS)")
    timeout = max(args.timeout, 300)
    process = _flow("ingest-process", PROCESS_LINES, process=True)
    python = shutil.which("python3") or sys.executable
    bare = bare_measure(["env", UNBUFFERED, python, "-c", _script(PROCESS_LINES)], RUNS)
    rates = _rates(process, PROCESS_LINES, stack, timeout)
    _rate_row(report, f"Process runner, {PROCESS_LINES:,} lines", rates, bare, PROCESS_LINES)
    why_not = "disabled by --no-docker" if args.no_docker else docker_unavailable(IMAGE)
    name = f"Docker runner, {DOCKER_LINES:,} lines"
    if why_not:
        report.skipped(name, why_not)
        return
    docker = _flow("ingest-docker", DOCKER_LINES, process=False)
    argv = [
        "docker",
        "run",
        "--rm",
        "-e",
        UNBUFFERED,
        IMAGE,
        "python3",
        "-c",
        _script(DOCKER_LINES),
    ]
    bare = bare_measure(argv, RUNS)
    rates = _rates(docker, DOCKER_LINES, stack, timeout)
    _rate_row(report, name, rates, bare, DOCKER_LINES)

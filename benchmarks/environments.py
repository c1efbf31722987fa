"""Python environments measured: the article's hello-world-colored (a beforeCommand that
pip-installs colorama) and a task with ``dependencies: [requests, pandas]``, on the first
run (which builds the environment) and on the later ones (which mount it), beside
hello-world and the bare floor under each, on the Process and Docker runners."""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import yaml
from django.conf import settings

from environments import places
from environments.models import PythonEnvironment
from environments.pip_commands import pip_commands_read
from environments.requirements import requirements_normal
from environments.use import environments_sweep
from executions.models import LogLine
from executions.runners.process import task_venv
from flows.models import Flow

from .environment import BenchError
from .flows import DEPENDENCIES, Flows
from .latency import Sample, bare_measure, docker_unavailable, execution_measure
from .report import Report, secs, signed_ms
from .stack import Stack

TARGET_RATIO = 1.2  # a reused environment's run against hello-world's (issue 13)
FIRST_RUN_TIMEOUT = 600.0  # a first run downloads and installs pandas through the proxy
BUILT = re.compile(r"Python environment (\w+) built in ([\d.]+) s")
REUSED = re.compile(r"Python environment (\w+) reused ")

State = PythonEnvironment.State


@dataclass
class Case:
    """A flow whose task runs in an environment, and what its bare floor imports."""

    name: str
    flow: Flow
    requirements: list[str]
    imports: str
    ratio_target: bool  # the target is the article's flow's
    key: str = ""  # its environment, once built
    first: float = 0.0  # seconds, trigger -> SUCCESS of the run that built it
    build: float = 0.0  # seconds the build itself took, as its log says
    later: list[Sample] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)


def _colored_requirements(flow: Flow) -> list[str]:
    """What the article's beforeCommands install, read as Flowsite reads them."""
    [task] = yaml.safe_load(flow.source)["tasks"]
    installs = pip_commands_read(task["beforeCommands"], {})
    if installs is None:
        raise BenchError(f"{flow}: its beforeCommands are not served from an environment")
    return list(installs.requirements)


def environments_measure(
    args: argparse.Namespace, stack: Stack, flows: Flows, report: Report
) -> None:
    image = settings.FLOWSITE_DEFAULT_PYTHON_IMAGE
    why_not = "disabled by --no-docker" if args.no_docker else docker_unavailable(image)
    for process in (True, False):
        runner = "Process" if process else f"Docker ({image})"
        report.section(f"Python environments, {runner} runner: built once, then mounted")
        if not process and why_not is not None:
            report.skipped("Docker runner: the Python environments' measures", why_not)
            continue
        colored = flows.colored_process if process else flows.colored_docker
        dependencies = flows.dependencies_process if process else flows.dependencies_docker
        cases = [
            Case(
                "hello-world-colored",
                colored,
                _colored_requirements(colored),
                "colorama",
                ratio_target=True,
            ),
            Case(
                "+".join(DEPENDENCIES),
                dependencies,
                list(DEPENDENCIES),
                ", ".join(DEPENDENCIES),
                ratio_target=False,
            ),
        ]
        with _environments_of(cases, process=process):
            hello, bare = _runner_measure(
                args, stack, flows.process if process else flows.docker, cases, process
            )
        _runner_report(report, runner, process, image, hello, bare, cases)
    report.notes.append(
        "Python environments: the first run builds the environment (none exists before it: "
        "the benchmark removes its own); later runs are measured after one warm-up run per "
        "worker, in interleaved rounds with hello-world and the bare floors, which run the "
        "same interpreter with the same environment on PYTHONPATH."
    )


@contextmanager
def _environments_of(cases: list[Case], *, process: bool) -> Iterator[None]:
    """No environment for ``cases`` before (so the first run builds it), none left after
    (its volume would outlive the benchmark's data dir on the Docker engine)."""
    if left := _environments_remove(cases, process=process):
        raise BenchError(f"Python environments {', '.join(left)} could not be removed")
    try:
        yield
    finally:
        if left := _environments_remove(cases, process=process):
            print(f"Python environments {', '.join(left)} could not be removed", flush=True)


def _environments_remove(cases: list[Case], *, process: bool) -> list[str]:
    """Retire the benchmark's environments for ``cases`` and remove their files; the keys
    of those that could not be."""
    runner = PythonEnvironment.Runner.PROCESS if process else PythonEnvironment.Runner.DOCKER
    mine = PythonEnvironment.objects.none()
    for case in cases:
        wanted = PythonEnvironment.objects.filter(
            runner=runner, requested=requirements_normal(case.requirements)
        )
        mine = mine | wanted | PythonEnvironment.objects.filter(key=case.key)
    places_swept = set(mine.values_list("place", flat=True))
    mine.filter(state__in=[State.BUILDING, State.READY]).update(state=State.RETIRED)
    for place in places_swept:
        environments_sweep(place, process)
    mine.filter(state=State.FAILED).delete()  # a failed build leaves no files
    return list(mine.values_list("key", flat=True))


def _runner_measure(
    args: argparse.Namespace, stack: Stack, hello_flow: Flow, cases: list[Case], process: bool
) -> tuple[list[float], dict[str, list[float]]]:
    image = settings.FLOWSITE_DEFAULT_PYTHON_IMAGE
    runner = "Process" if process else "Docker"
    print(f"{runner}: warming up hello-world ...", flush=True)
    execution_measure(hello_flow, stack, timeout=max(args.timeout, 180))  # the task venv
    time.sleep(0.5)  # the other django-q2 workers finish starting
    for _ in range(settings.Q_CLUSTER["workers"]):
        execution_measure(hello_flow, stack, args.timeout)

    for case in cases:
        print(f"{runner}: first run of {case.name}, which builds its environment ...", flush=True)
        time.sleep(args.pause)
        sample = execution_measure(case.flow, stack, FIRST_RUN_TIMEOUT)
        built = _log_match(sample, BUILT)
        if built is None:
            raise BenchError(f"{case.name}'s first run built no environment:\n{_log(sample)}")
        case.key, case.build, case.first = built[1], float(built[2]), sample.wall
    # Each django-q2 worker process meets the environments' code on its first such run.
    for _ in range(settings.Q_CLUSTER["workers"]):
        for case in cases:
            _reused_check(case, [execution_measure(case.flow, stack, args.timeout)])

    python = str(task_venv() / "bin" / "python")
    if process:
        bare_print = [python, "-c", "print(1)"]
    else:
        bare_print = ["docker", "run", "--rm", image, "python", "-c", "print(1)"]
    floors = {case.name: _bare_import(case, process, python, image) for case in cases}
    for argv in [bare_print, *floors.values()]:
        bare_measure(argv, 1)  # warm-up: the page cache holds what they read

    print(f"{args.runs} rounds of {runner} hello-world, the two flows and the floors ...")
    hello: list[float] = []
    bare: dict[str, list[float]] = {"print": []}
    for _ in range(args.runs):
        time.sleep(args.pause)  # the cluster is idle when someone clicks Run
        hello.append(execution_measure(hello_flow, stack, args.timeout).wall)
        for case in cases:
            time.sleep(args.pause)
            case.later.append(execution_measure(case.flow, stack, args.timeout))
        bare["print"] += bare_measure(bare_print, 1)
        for case in cases:
            _still_there(case, process)  # or docker run would mount a new empty volume
            case.bare += bare_measure(floors[case.name], 1)
    for case in cases:  # read after the rounds, so as not to weigh on them
        _reused_check(case, case.later)
    return hello, bare


REMOVED = "removed behind the benchmark's back: something else removes its volume or directory"


def _reused_check(case: Case, samples: list[Sample]) -> None:
    for sample in samples:
        reused = _log_match(sample, REUSED)
        if reused is None or reused[1] != case.key:
            raise BenchError(f"{case.name} did not reuse {case.key}, {REMOVED}:\n{_log(sample)}")


def _environment(case: Case) -> PythonEnvironment:
    environment = PythonEnvironment.objects.filter(key=case.key).first()
    if environment is None:
        raise BenchError(f"Python environment {case.key} {REMOVED}")
    return environment


def _still_there(case: Case, process: bool) -> None:
    present = (
        places.process_present(_environment(case))
        if process
        else places.docker_volume_present(_environment(case))
    )
    if not present:
        raise BenchError(f"Python environment {case.key} {REMOVED}")


def _bare_import(case: Case, process: bool, python: str, image: str) -> list[str]:
    """The interpreter the task runs, importing what it imports from its environment."""
    environment = _environment(case)
    code = f"import {case.imports}"
    if process:
        site = places.process_dir(environment) / "site"
        return ["env", f"PYTHONPATH={site}", python, "-c", code]
    mount = f"type=volume,src={places.volume_name(environment)},dst={places.ENV_TARGET},readonly"
    pythonpath = f"PYTHONPATH={places.ENV_TARGET}/site"
    return [
        "docker",
        "run",
        "--rm",
        "--mount",
        mount,
        "-e",
        pythonpath,
        image,
        "python",
        "-c",
        code,
    ]


def _log_match(sample: Sample, pattern: re.Pattern[str]) -> re.Match[str] | None:
    lines = LogLine.objects.filter(execution_id=sample.execution_id).values_list(
        "message", flat=True
    )
    return next((m for line in lines if (m := pattern.match(line))), None)


def _log(sample: Sample) -> str:
    lines = LogLine.objects.filter(execution_id=sample.execution_id).values_list(
        "message", flat=True
    )
    return "\n".join(f"  {line}" for line in lines)


def _runner_report(
    report: Report,
    runner: str,
    process: bool,
    image: str,
    hello: list[float],
    bare: dict[str, list[float]],
    cases: list[Case],
) -> None:
    short = "Process" if process else "Docker"
    hello_median = report.measured(f"{short} hello-world, trigger -> SUCCESS", hello)
    later: dict[str, float] = {}
    for case in cases:
        report.derived(
            f"{short} {case.name}, first run (builds), trigger -> SUCCESS",
            secs(case.first),
            spread=f"of which the build {case.build:.1f} s, n=1",
        )
        later[case.name] = report.measured(
            f"{short} {case.name}, later runs (reused), trigger -> SUCCESS",
            [s.wall for s in case.later],
        )
    where = "task venv python" if process else f"docker run --rm {image} python"
    print_median = report.measured(f"bare: {where} -c 'print(1)'", bare["print"])
    floor: dict[str, float] = {}
    for case in cases:
        floor[case.name] = report.measured(
            f"bare: {short} python -c 'import {case.imports}' from its environment", case.bare
        )
    for case in cases:
        ratio = later[case.name] / hello_median
        report.derived(
            f"{short} {case.name} later runs / hello-world",
            f"{ratio:.2f} x",
            target=f"<= {TARGET_RATIO:g} x" if case.ratio_target else "",
            ok=ratio <= TARGET_RATIO if case.ratio_target else None,
        )
    report.derived(f"{short} hello-world - bare 'print(1)'", signed_ms(hello_median - print_median))
    for case in cases:
        report.derived(
            f"{short} {case.name} later runs - bare 'import {case.imports}'",
            signed_ms(later[case.name] - floor[case.name]),
            spread=f"the import alone: {signed_ms(floor[case.name] - print_median)} over print(1)",
        )

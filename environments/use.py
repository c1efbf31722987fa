"""A python task's run, given its environment: found and mounted, or built first.

``environment_prepare`` takes the run as the task asked for it (its ``dependencies`` to
install on every run, its beforeCommands) and, where the environment cache applies,
hands back the same run with the install gone: the environment mounted read-only and put
first on PYTHONPATH, the pip-only beforeCommands dropped (a Flowsite extension).

It does not apply when the task says ``dependencyCacheEnabled: false``; beforeCommands
run as written when they do more than install packages from the index, or when
FLOWSITE_PIP_COMMANDS_CACHED is off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.utils.timezone import now

from executions.runners.base import LineSink, RunSpec, TaskError
from executions.runners.docker import DockerRunner
from executions.runners.process import SHELLS, ProcessRunner

from . import places
from .build import environment_build
from .models import PythonEnvironment
from .pip_commands import pip_commands_read
from .requirements import RequirementInvalid, requirements_normal
from .retire import environment_retire, environments_over_cap
from .store import (
    BuildFailed,
    BuildStopped,
    Heartbeat,
    Request,
    environment_claim,
    environment_failed,
    environment_ready,
    environment_used,
)

State = PythonEnvironment.State
SWEEP_EVERY_SECONDS = 60.0
_last_sweep: dict[str, float] = {}


def environment_prepare(
    spec: RunSpec, *, process: bool, sink: LineSink, should_stop: Callable[[], bool]
) -> RunSpec:
    setup = spec.python
    if setup is None:
        return spec
    if not setup.cache_enabled:  # installed on every run, as before
        return spec if setup.dependencies else replace(spec, python=None)
    requirements = list(setup.dependencies)
    commands = spec.commands
    served = 0  # leading commands (beforeCommands) the environment stands in for
    if setup.before_commands and _pip_commands_servable(spec):
        installs = pip_commands_read(setup.before_commands, spec.files)
        if installs is not None:
            requirements += installs.requirements
            served = len(setup.before_commands)
    if not requirements:
        return replace(spec, python=None)
    try:
        requirements_normal(requirements)
    except RequirementInvalid as exc:
        if served:  # the commands then run as written, and say what pip thinks of it
            return replace(spec, python=setup if setup.dependencies else None)
        raise TaskError(f"Could not install the Python dependencies: {exc}") from None
    place = (
        places.process_place()
        if process
        else places.docker_place(spec.image, pull_policy=spec.pull_policy, sink=sink)
    )
    request = Request(
        runner=place.runner,
        place=place.place,
        place_label=place.label,
        platform=place.platform,
        image="" if process else spec.image,
        installer=setup.package_manager,
        requirements=tuple(requirements),
        python_version=setup.python_version or "",
        index_url=settings.FLOWSITE_PYTHON_INDEX_URL,
    )
    environment = _environment_get(request, spec, process, sink, should_stop)
    wanted, running = setup.python_version, environment.python_version
    if wanted and running and not f"{running}.".startswith(f"{wanted}."):
        sink.system(f"pythonVersion is {wanted} but this task runs Python {running}", "WARN")
    run_volume = (
        places.process_run_volume(environment) if process else places.docker_run_volume(environment)
    )
    return replace(
        spec,
        python=None,
        # Pulled above as its policy said: pulling again for the run would waste a pull.
        pull_policy="IF_NOT_PRESENT",
        commands=commands[served:],
        volumes=[*spec.volumes, run_volume],
        setup_lines=[*spec.setup_lines, *places.setup_lines(run_volume.target)],
    )


def _pip_commands_servable(spec: RunSpec) -> bool:
    """beforeCommands are read as a POSIX shell reads them, and only when nothing outside
    them (the task's PIP_* or UV_* variables) changes what pip would install."""
    shell = spec.interpreter[:1] and PurePosixPath(spec.interpreter[0]).name in SHELLS
    configured = any(name.startswith(("PIP_", "UV_")) for name in spec.env)
    return bool(settings.FLOWSITE_PIP_COMMANDS_CACHED and shell and not configured)


def _environment_get(
    request: Request,
    spec: RunSpec,
    process: bool,
    sink: LineSink,
    should_stop: Callable[[], bool],
) -> PythonEnvironment:
    def waiting(environment: PythonEnvironment) -> None:
        sink.system(f"Waiting for Python environment {environment.key}, which another run builds")
        sink.flush()

    while True:
        try:
            claim = environment_claim(request, should_stop=should_stop, waiting=waiting)
        except BuildStopped:
            raise TaskError("Killed while waiting for the Python environment") from None
        except BuildFailed as exc:
            raise TaskError(str(exc)) from None
        environment = claim.environment
        if claim.build:
            return _build(environment, request, spec, process, sink, should_stop)
        present = (
            places.process_present(environment)
            if process
            else places.docker_volume_present(environment)
        )
        if not present:  # removed behind Flowsite's back: build it again
            environment_retire(environment)
            continue
        environment_used(environment)
        sink.system(
            f"Python environment {environment.key} reused "
            f"({_described(environment.packages or environment.requested)})"
        )
        _sweep_if_due(request.place, process)
        return environment


def _build(
    environment: PythonEnvironment,
    request: Request,
    spec: RunSpec,
    process: bool,
    sink: LineSink,
    should_stop: Callable[[], bool],
) -> PythonEnvironment:
    sink.system(
        f"Building Python environment {environment.key} for {_described(request.requested)}"
    )
    started = time.monotonic()
    try:
        where = (
            places.process_build_spec(environment)
            if process
            else places.docker_build_spec(environment, spec.image)
        )
        built = environment_build(
            ProcessRunner() if process else DockerRunner(),
            where,
            requirements=request.requested,
            installer=request.installer,
            index_url=request.index_url,
            task=spec,
            sink=sink,
            should_stop=should_stop,
            heartbeat=Heartbeat(environment),
        )
        if process:
            places.process_build_keep(environment)
    except BaseException as exc:
        _discard(environment, process)
        environment_failed(environment, str(exc))
        if isinstance(exc, TaskError):
            raise
        raise TaskError(f"Could not build the Python environment: {exc}") from exc
    environment_ready(environment, packages=built.packages, python=built.python, size=built.size)
    sink.system(
        f"Python environment {environment.key} built in {time.monotonic() - started:.1f} s: "
        f"{_described(built.packages)}"
    )
    for old in environments_over_cap(request.place, keep=environment.pk):
        if environment_retire(old):
            sink.system(f"Python environment {old.key} evicted: over the cache's size cap")
    environments_sweep(request.place, process)
    return environment


def _discard(environment: PythonEnvironment, process: bool) -> None:
    """A failed build leaves nothing behind."""
    try:
        if process:
            places.process_discard(environment)
        else:
            places.docker_remove(environment)
    except TaskError:
        pass  # the engine is gone: its volume is swept when it is back


def _sweep_if_due(place: str, process: bool) -> None:
    if time.monotonic() - _last_sweep.get(place, 0.0) >= SWEEP_EVERY_SECONDS:
        environments_sweep(place, process)


def environments_sweep(place: str, process: bool) -> int:
    """Remove the files of ``place``'s retired environments (those a run still uses wait
    for the next sweep) and forget failed builds; returns how many were removed."""
    _last_sweep[place] = time.monotonic()
    removed = 0
    for environment in PythonEnvironment.objects.filter(place=place, state=State.RETIRED):
        try:
            gone = (
                places.process_remove(environment) if process else places.docker_remove(environment)
            )
        except TaskError:
            return removed
        if gone:
            environment.delete()
            removed += 1
    # Failed builds: kept a while for the runs that waited on them to read why; then
    # what a builder that died mid-build left goes too.
    old = now() - timedelta(minutes=10)
    for environment in PythonEnvironment.objects.filter(
        place=place, state=State.FAILED, touched_at__lt=old
    ):
        _discard(environment, process)
        environment.delete()
    return removed


def _described(packages: list[str]) -> str:
    shown = ", ".join(packages[:5])
    more = len(packages) - 5
    return f"{shown}, and {more} more" if more > 0 else shown or "no packages"

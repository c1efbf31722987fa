"""Building an environment: the installer run like a task, where the task runs.

The build is a run of its own (never the task's script, which could otherwise write into
what other runs will import): the task's image, or the Process runner's interpreter, with
the environment's directory writable and nothing else of it. uv installs when asked for
(Kestra's default) and able to (a Python 3.8 or newer, and uv runs on the image); pip
otherwise. Its output goes to the task's log as it comes.

The build leaves three small files in its working directory, which the runner collects
as it would ``outputFiles``: what got installed, the Python, and the size.
"""

from __future__ import annotations

import shlex
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from executions.runners.base import STDOUT, LineSink, Runner, RunSpec, TaskError, Volume, drive

REQUIREMENTS_FILE = "requirements.txt"
FACTS = ["installed.txt", "python.txt", "size.txt"]
MESSAGE_LINES = 8  # of the installer's output, in the task's error when it fails


@dataclass
class Built:
    packages: list[str]
    python: str
    size: int


@dataclass
class BuildSpec:
    """Where one build happens."""

    image: str
    env_dir: str  # the environment's directory as the build sees it
    env_volume: Volume  # how it is given to the build, writable
    uv: str  # the uv binary as the build sees it; "" when none
    volumes: list[Volume] = field(default_factory=list)  # more, read-only (uv's own)
    interpreter: list[str] = field(default_factory=lambda: ["/bin/sh", "-c"])


def build_commands(*, env_dir: str, uv: str, installer: str) -> list[str]:
    """The shell of a build: install into ``env_dir``/site, then describe it."""
    site = shlex.quote(f"{env_dir}/site")
    use_uv = (
        f"[ -n {shlex.quote(uv)} ] && {shlex.quote(uv or 'uv')} --version >/dev/null 2>&1 "
        "&& python -c 'import sys; sys.exit(sys.version_info < (3, 8))' 2>/dev/null"
        if installer == "UV" and uv
        else "false"
    )
    return [
        ": > installed.txt; : > python.txt; : > size.txt",  # collected even if it fails
        'export UV_CACHE_DIR="${TMPDIR:-/tmp}/flowsite-uv-cache" UV_LINK_MODE=copy',
        f"rm -rf {site}",  # what a build that died left
        f"if {use_uv}; then",
        '  echo "Installing with uv into a new environment"',
        # Compiled now: runs see the environment read-only, so Python could never cache
        # the bytecode and would compile every module again on every run (pip does this
        # by itself).
        f"  {shlex.quote(uv or 'uv')} pip install --no-progress --compile-bytecode "
        f'--python "$(command -v python)" --target {site} -r {REQUIREMENTS_FILE}',
        "else",
        '  echo "Installing with pip into a new environment"',
        "  python -m pip install --no-input --disable-pip-version-check --no-warn-script-location "
        f"--target {site} -r {REQUIREMENTS_FILE}",
        "fi",
        f"ls {site} > installed.txt",
        "python -c 'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])' > python.txt",
        f"du -sk {site} | cut -f1 > size.txt",
    ]


class _BuildSink:
    """The task's log, for a build's output: every line at INFO, the last ones kept for
    the error message should the install fail; ``tick`` runs as lines come."""

    def __init__(self, sink: LineSink, tick: Callable[[], None]):
        self.sink, self.tick = sink, tick
        self.last: deque[str] = deque(maxlen=MESSAGE_LINES)

    def line(self, stream: str, text: str, level: str | None = None) -> None:
        if text.strip():
            self.last.append(text.strip())
        self.sink.line(STDOUT, text, level or "INFO")

    def system(self, text: str, level: str = "INFO") -> None:
        self.sink.system(text, level)

    def flush_if_due(self) -> None:
        self.tick()
        self.sink.flush_if_due()

    def flush(self) -> None:
        self.sink.flush()


def environment_build(
    runner: Runner,
    where: BuildSpec,
    *,
    requirements: list[str],
    installer: str,
    index_url: str = "",
    task: RunSpec,
    sink: LineSink,
    should_stop: Callable[[], bool],
    heartbeat: Callable[[], None],
) -> Built:
    """Install ``requirements`` into ``where.env_dir`` from ``index_url`` (PyPI when
    empty); raise TaskError with the installer's own message when it fails, or when the
    run is stopped meanwhile."""
    spec = RunSpec(
        execution_id=task.execution_id,
        # The task run's own id: its container and processes are found and killed as the
        # task's are, should its worker die mid-build.
        task_run_id=task.task_run_id,
        task_id=task.task_id,
        commands=build_commands(env_dir=where.env_dir, uv=where.uv, installer=installer),
        files={REQUIREMENTS_FILE: "\n".join(requirements) + "\n"},
        output_files=FACTS,
        interpreter=where.interpreter,
        env={"UV_DEFAULT_INDEX": index_url, "PIP_INDEX_URL": index_url} if index_url else {},
        image=where.image,
        pull_policy="NEVER",  # the task's own image, present by now
        memory_bytes=task.memory_bytes,
        cpus=task.cpus,
        timeout=task.timeout,
        volumes=[where.env_volume, *where.volumes],
    )
    facts: dict[str, str] = {}

    def keep(name: str, content: IO[bytes]) -> str:
        facts[name] = content.read(1_000_000).decode("utf-8", errors="replace")
        return name

    build_sink = _BuildSink(sink, heartbeat)
    result = drive(runner, spec, build_sink, should_stop=should_stop, keep_file=keep)
    if result.killed:
        raise TaskError("Killed while installing the Python dependencies")
    if result.timed_out:
        raise TaskError("Timed out while installing the Python dependencies")
    if result.exit_code != 0:
        told = " / ".join(build_sink.last) or f"exit code {result.exit_code}"
        raise TaskError(f"Could not install the Python dependencies: {told}")
    return Built(
        packages=installed_packages(facts.get("installed.txt", "")),
        python=facts.get("python.txt", "").strip(),
        size=_kilobytes(facts.get("size.txt", "")) * 1024,
    )


def installed_packages(listing: str) -> list[str]:
    """``name==version`` from the metadata directories pip and uv leave in site/."""
    packages = []
    for entry in listing.split():
        for suffix in (".dist-info", ".egg-info"):
            if entry.endswith(suffix):
                name, _, version = entry[: -len(suffix)].partition("-")
                version = version.split("-")[0]  # egg-info adds -pyX.Y
                packages.append(f"{name.replace('_', '-')}=={version}" if version else name)
    return sorted(packages, key=str.lower)


def _kilobytes(text: str) -> int:
    text = text.strip()
    return int(text) if text.isdigit() else 0

"""The contract every runner keeps, and the loop that drives one run.

A runner starts a script (``Runner.start``) and hands back a ``Handle``: its output as
chunks per stream, a way to kill it, its exit code, the files its working directory
holds, and cleanup. ``drive`` does the rest the same way for every runner: splits lines,
reads Kestra's ``::{...}::`` lines (commands.py: outputs, metrics, log lines at their
level), forwards the other lines to a sink, enforces the task timeout, stops the run
when asked to, and hands the files that ``outputFiles`` names to a keeper before the
working directory goes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from django.conf import settings

from flows.language.tasks import PythonSetup
from flowsite.values import relative_path_check

from .commands import CommandInvalid, Metric, MetricTally, command_parse
from .globs import glob_match
from .lines import LineSplitter
from .python_setup import MESSAGE_LINES, failed_marker, python_setup_lines

STDOUT = "stdout"
STDERR = "stderr"
_EOF = object()
TICK = 0.05  # seconds: the longest the driver waits before looking at kill and timeout


class TaskError(Exception):
    """A task could not run, for a reason to show the user as it is."""


@dataclass(frozen=True)
class Volume:
    """A directory a run sees besides its working directory: a Docker volume mounted at
    ``target``, or for the Process runner the host directory ``source`` itself."""

    source: str  # the volume's name, or the host directory
    target: str  # where a container sees it
    read_only: bool = True


@dataclass
class RunSpec:
    execution_id: str
    task_run_id: str
    task_id: str
    commands: list[str]
    # Written into the working directory before the commands run: text or bytes.
    files: dict[str, str | bytes] = field(default_factory=dict)
    # Kestra's outputFiles: glob patterns, relative to the working directory.
    output_files: list[str] = field(default_factory=list)
    interpreter: list[str] = field(default_factory=lambda: ["/bin/sh", "-c"])
    env: dict[str, str] = field(default_factory=dict)
    image: str = ""
    pull_policy: str = "IF_NOT_PRESENT"
    memory_bytes: int | None = None
    cpus: float | None = None
    timeout: float | None = None
    python: PythonSetup | None = None  # dependencies to install first, on every run
    volumes: list[Volume] = field(default_factory=list)
    # Shell lines before the commands, such as those putting an environment on PYTHONPATH.
    setup_lines: list[str] = field(default_factory=list)

    @property
    def shell_script(self) -> str:
        # Like Kestra, stop at the first failing command.
        setup = python_setup_lines(self.python, task_run_id=self.task_run_id) if self.python else []
        return "set -e\n" + "\n".join([*self.setup_lines, *setup, *self.commands]) + "\n"

    @property
    def exit_marker(self) -> str:
        """A runner may print this then the exit code on stderr, to end a task as soon
        as its output ends (see the Docker runner)."""
        return f"::flowsite-exit-{self.task_run_id}::"

    @property
    def labels(self) -> dict[str, str]:
        return {
            "flowsite.execution": self.execution_id,
            "flowsite.taskrun": self.task_run_id,
            "flowsite.task": self.task_id,
        }


@dataclass
class RunResult:
    exit_code: int | None
    outputs: dict[str, Any]
    reported_exit_code: int | None = None
    stderr_lines: int = 0
    killed: bool = False
    timed_out: bool = False
    # Why the run failed when the runner knows better than the exit code (an OOM kill).
    error: str = ""
    # outputFiles collected: the file's path in the working directory -> what the keeper
    # returned for it (the storage URI).
    output_files: dict[str, str] = field(default_factory=dict)
    # What ``::{"metrics": ...}::`` lines reported, one per type, name and tags.
    metrics: list[Metric] = field(default_factory=list)
    # The installer's message when the dependencies could not be installed.
    setup_error: str = ""


# Called once per collected file with its relative path and its content, open for
# reading; returns where the file was kept. The content is gone after the call.
FileKeeper = Callable[[str, IO[bytes]], str]


class Handle(Protocol):
    def chunks(self) -> Iterator[tuple[str, bytes]]:
        """(stream, bytes) until both streams end. Runs on a reader thread."""

    def terminate(self, grace: float) -> None:
        """Ask the script to stop (SIGTERM to all its processes); ``kill`` follows
        after ``grace`` seconds if it has not ended by then."""

    def kill(self) -> None:
        """SIGKILL, to all its processes."""

    def wait(self) -> int: ...

    def collect(self, patterns: list[str], keep: FileKeeper) -> list[str]:
        """Hand each regular file of the working directory that a pattern matches to
        ``keep``, once; return the relative paths handed. Called before cleanup."""

    def cleanup(self) -> None: ...


@runtime_checkable
class ExplainsEnd(Protocol):
    """A handle that can tell why a run ended badly, beyond its exit code."""

    def end_reason(self, exit_code: int) -> str:
        """A short reason such as 'killed: out of memory, limit 256 MB', or ''."""


class Runner(Protocol):
    def start(self, spec: RunSpec, sink: LineSink) -> Handle:
        """Start the script; raise TaskError when it cannot start."""


class LineSink(Protocol):
    def line(self, stream: str, text: str, level: str | None = None) -> None:
        """A line of the script's output; ``level`` None: the stream's own."""

    def system(self, text: str, level: str = "INFO") -> None: ...

    def flush_if_due(self) -> None: ...

    def flush(self) -> None: ...


def task_env(spec: RunSpec, *, ca_bundle_path: str) -> dict[str, str]:
    """What every task sees, whatever runs it."""
    env = {
        "PYTHONUNBUFFERED": "1",
        # The container is disposable: pip's root and upgrade notices are noise on stderr.
        "PIP_ROOT_USER_ACTION": "ignore",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "FLOWSITE_EXECUTION_ID": spec.execution_id,
        "FLOWSITE_TASKRUN_ID": spec.task_run_id,
    }
    for name in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        env[name] = ca_bundle_path
    env["NODE_EXTRA_CA_CERTS"] = ca_bundle_path
    env.update(spec.env)
    return env


@lru_cache(maxsize=1)
def ca_bundle() -> bytes:
    """The certificates tasks trust: the host's bundle plus FLOWSITE_EXTRA_CA_CERTS."""
    import ssl

    import certifi

    paths = ssl.get_default_verify_paths()
    candidates = [paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"]
    base = next((Path(p) for p in candidates if p and Path(p).is_file()), Path(certifi.where()))
    parts = [base.read_bytes()]
    parts += [Path(p).read_bytes() for p in settings.FLOWSITE_EXTRA_CA_CERTS]
    return b"\n".join(part.rstrip(b"\n") for part in parts) + b"\n"


def drive(
    runner: Runner,
    spec: RunSpec,
    sink: LineSink,
    *,
    should_stop: Callable[[], bool],
    keep_file: FileKeeper | None = None,
    keep_workdir: Callable[[dict[str, bytes]], None] | None = None,
) -> RunResult:
    """Run ``spec`` to its end, streaming lines into ``sink``.

    When the script ran to its end (whatever its exit code: a failed task's files help
    to see why), the files ``spec.output_files`` matches go to ``keep_file``, and every
    file of the working directory to ``keep_workdir`` (a WorkingDirectory's next task
    finds them).
    """
    handle = runner.start(spec, sink)
    try:
        result = _follow(handle, spec, sink, should_stop)
        stopped = result.killed or result.timed_out
        if result.exit_code and not stopped and isinstance(handle, ExplainsEnd):
            result.error = handle.end_reason(result.exit_code)
        if spec.output_files and keep_file and not stopped:
            result.output_files = _collect(handle, spec, sink, keep_file)
        if keep_workdir is not None and not stopped:
            files: dict[str, bytes] = {}

            def take(name: str, content: IO[bytes]) -> str:
                files[name] = content.read()
                return name

            handle.collect(["**"], take)
            keep_workdir(files)
        return result
    finally:
        handle.cleanup()


def _collect(handle: Handle, spec: RunSpec, sink: LineSink, keep: FileKeeper) -> dict[str, str]:
    kept: dict[str, str] = {}

    def keep_one(name: str, content: IO[bytes]) -> str:
        kept[name] = keep(name, content)
        return kept[name]

    try:
        handle.collect(spec.output_files, keep_one)
    except TaskError:
        raise
    except Exception as exc:  # the Docker API or the storage failed: say which file
        raise TaskError(f"Could not collect the output files: {exc}") from exc
    for pattern in spec.output_files:
        if not any(glob_match(pattern, name) for name in kept):
            sink.system(f"outputFiles: no file matches '{pattern}'", "WARN")
    sink.flush()
    return kept


def workdir_file_check(name: str) -> str:
    """A file name of the working directory, refused when it would leave it."""
    try:
        return relative_path_check(name, what="input file name")
    except ValueError as exc:
        raise TaskError(f"Cannot write the task's files: {exc}") from None


def _follow(
    handle: Handle, spec: RunSpec, sink: LineSink, should_stop: Callable[[], bool]
) -> RunResult:
    chunks: queue.Queue[Any] = queue.Queue()
    reader_error: list[BaseException] = []

    def read() -> None:
        try:
            for item in handle.chunks():
                chunks.put(item)
        except BaseException as exc:  # reported below, on the driving thread
            reader_error.append(exc)
        finally:
            chunks.put(_EOF)

    threading.Thread(target=read, name=f"reader-{spec.task_run_id}", daemon=True).start()
    splitters = {STDOUT: LineSplitter(), STDERR: LineSplitter()}
    result = RunResult(exit_code=None, outputs={})
    tally = MetricTally()
    setup_failed = failed_marker(spec.task_run_id)
    installer: list[str] | None = None  # its output, once the setup said it failed
    started = time.monotonic()
    next_stop_check = started + 2 * TICK  # the claim has just looked
    kill_at: float | None = None  # when a stopped script that still runs gets SIGKILL

    def emit(stream: str, lines: list[str]) -> None:
        nonlocal installer
        if stream == STDOUT:  # the hot path: most lines of most tasks
            line = sink.line
            for text in lines:
                if "::" in text and command_parse_or_line(stream, text):
                    continue
                line(stream, text)
            return
        for text in lines:
            if stream == STDERR and spec.exit_marker in text:
                text, _, code = text.partition(spec.exit_marker)
                result.reported_exit_code = int(code) if code.strip().isdigit() else None
                if not text:
                    continue
            if stream == STDERR and text == setup_failed:
                installer = []
                continue
            if stream == STDERR and installer is not None:
                installer.append(text)
            if stream == STDERR:  # a command too, as in Kestra: warningOnStdErr counts it
                result.stderr_lines += 1
            if not command_parse_or_line(stream, text):
                sink.line(stream, text)

    def command_parse_or_line(stream: str, text: str) -> bool:
        """Whether ``text`` was a ::{...}:: line, now handled (stored if it was invalid)."""
        try:
            command = command_parse(text)
        except CommandInvalid as exc:
            sink.line(stream, text)
            sink.system(f"A ::{{...}}:: line was kept as plain output: {exc}", "WARN")
            return True
        if command is None:
            return False
        result.outputs.update(command.outputs)
        for metric in command.metrics:
            tally.add(metric)
        for entry in command.logs:
            sink.line(stream, entry.message, entry.level)
        return True

    while True:
        try:
            item = chunks.get(timeout=TICK)
        except queue.Empty:
            item = None
        if item is _EOF:
            break
        if item is not None:
            stream, data = item
            emit(stream, splitters[stream].feed(data))
        sink.flush_if_due()
        now = time.monotonic()
        if now >= next_stop_check and not (result.killed or result.timed_out):
            next_stop_check = now + 2 * TICK
            if should_stop():
                result.killed = True
                kill_at = _stop(handle, sink, "Killing")
            elif spec.timeout is not None and now - started > spec.timeout:
                result.timed_out = True
                kill_at = _stop(
                    handle, sink, f"Task exceeded its timeout of {spec.timeout:g} s and was stopped"
                )
        elif kill_at is not None and now >= kill_at:
            kill_at = None
            handle.kill()
    for stream, splitter in splitters.items():
        emit(stream, splitter.rest())
    result.metrics = tally.metrics()
    if installer is not None:
        told = [line.strip() for line in installer if line.strip()]
        result.setup_error = " / ".join(told[-MESSAGE_LINES:]) or "the installer said nothing"
    if tally.dropped:
        sink.system(f"Kept the first {len(result.metrics)} metrics, ignored the others", "WARN")
    if reader_error and not (result.killed or result.timed_out):
        if isinstance(reader_error[0], TaskError):  # the runner put it in words already
            raise reader_error[0]
        raise TaskError(f"Lost the task's output: {reader_error[0]}")
    if result.reported_exit_code is not None and not (result.killed or result.timed_out):
        result.exit_code = result.reported_exit_code
    else:
        result.exit_code = handle.wait()
    sink.flush()
    return result


def _stop(handle: Handle, sink: LineSink, why: str) -> float | None:
    """SIGTERM first, so that the script may clean up, and SIGKILL after the grace
    period (FLOWSITE_KILL_GRACE_SECONDS); returns when the SIGKILL is due."""
    grace = float(settings.FLOWSITE_KILL_GRACE_SECONDS)
    level = "WARN" if why == "Killing" else "ERROR"
    if grace <= 0:
        sink.system(f"{why}: sent SIGKILL", level)
        handle.kill()
        return None
    sink.system(f"{why}: sent SIGTERM, SIGKILL in {grace:g} s", level)
    sink.flush()
    handle.terminate(grace)
    return time.monotonic() + grace

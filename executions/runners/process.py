"""Runs a script as a local subprocess, in a working directory of its own.

Python tasks get ``python`` from a virtual environment kept for them, so what they
``pip install`` never lands in Flowsite's own environment. Its interpreter is resolved
once: starting Python through a shim costs far more than the task itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import shutil
import signal
import subprocess
import venv
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from .base import (
    STDERR,
    STDOUT,
    FileKeeper,
    LineSink,
    RunSpec,
    TaskError,
    ca_bundle,
    task_env,
    workdir_file_check,
)
from .globs import glob_matcher


@lru_cache(maxsize=1)
def task_venv() -> Path:
    """The virtual environment Process tasks run in, created once per worker host."""
    root = Path(settings.DATA_DIR) / "venvs" / "process"
    python = root / "bin" / "python"
    if python.exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / ".process.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not python.exists():
            try:
                venv.EnvBuilder(with_pip=True, clear=True, symlinks=True).create(root)
            except Exception as exc:
                raise TaskError(
                    f"Could not create the Process runner's Python environment: {exc}"
                ) from exc
    return root


@lru_cache(maxsize=1)
def _ca_file() -> str:
    path = Path(settings.DATA_DIR) / "ca-certificates.crt"
    data = ca_bundle()
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return str(path)


def processes_kill(*, task_run_id: str) -> int:
    """SIGKILL, on this host, the process groups of a task run whose worker died: found
    by the FLOWSITE_TASKRUN_ID every task process has in its environment. Returns how
    many groups were killed."""
    marker = f"FLOWSITE_TASKRUN_ID={task_run_id}".encode()
    groups = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                groups.add(os.getpgid(int(entry.name)))
        except (OSError, ProcessLookupError):
            continue  # ended meanwhile, or not ours to read
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    return len(groups)


class ProcessRunner:
    def start(self, spec: RunSpec, sink: LineSink) -> ProcessHandle:
        workdir = Path(settings.DATA_DIR) / "work" / spec.task_run_id
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            _files_write(workdir, spec.files)
        except TaskError:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        bin_dir = task_venv() / "bin"
        env = {
            **os.environ,
            **task_env(spec, ca_bundle_path=_ca_file()),
            "WORKING_DIR": str(workdir),
            "VIRTUAL_ENV": str(bin_dir.parent),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        for leaked in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH", "PYTHONHOME"):
            env.pop(leaked, None)
        try:
            process = subprocess.Popen(
                [*spec.interpreter, spec.shell_script],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, so kill reaches children
            )
        except OSError as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            raise TaskError(f"Could not start '{spec.interpreter[0]}': {exc}") from exc
        return ProcessHandle(process, workdir)


def _files_write(workdir: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = workdir / workdir_file_check(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


class ProcessHandle:
    def __init__(self, process: subprocess.Popen[bytes], workdir: Path):
        self.process = process
        self.workdir = workdir

    def chunks(self) -> Iterator[tuple[str, bytes]]:
        assert self.process.stdout is not None and self.process.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ, STDOUT)
        selector.register(self.process.stderr, selectors.EVENT_READ, STDERR)
        open_streams = 2
        while open_streams:
            for key, _ in selector.select():
                data = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
                if data:
                    yield key.data, data
                else:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
        selector.close()

    def terminate(self, grace: float) -> None:
        # The whole process group: the shell and what it started (the driver sends
        # SIGKILL after ``grace``).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def wait(self) -> int:
        return self.process.wait()

    def collect(self, patterns: list[str], keep: FileKeeper) -> list[str]:
        matches = glob_matcher(patterns)
        kept = []
        for directory, dirnames, filenames in os.walk(self.workdir):  # links not followed
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(directory) / filename
                name = path.relative_to(self.workdir).as_posix()
                if path.is_symlink() or not path.is_file() or not matches(name):
                    continue
                with open(path, "rb") as content:
                    keep(name, content)
                kept.append(name)
        return kept

    def cleanup(self) -> None:
        if self.process.poll() is None:
            self.kill()
            self.process.wait()
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe:
                pipe.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

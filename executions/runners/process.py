"""Runs a script as a local subprocess, in a working directory of its own, as a user of
its own with an allow-listed environment (isolation.py).

Python tasks get ``python`` from a virtual environment kept for them, so what they
``pip install`` never lands in Flowsite's own environment. Its interpreter is resolved
once: starting Python through a shim costs far more than the task itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from .base import (
    STDERR,
    STDOUT,
    FileKeeper,
    LineSink,
    RunSpec,
    TaskError,
    ca_bundle,
    workdir_file_check,
)
from .globs import glob_matcher
from .isolation import (
    ISOLATION_OFF,
    TaskUser,
    host_close,
    isolation_on,
    task_environment,
    task_user_take,
)


@lru_cache(maxsize=1)
def task_venv() -> Path:
    """The virtual environment Process tasks run in, created once per worker host.

    Task users must be able to run it but never change it: what one task installed the
    next would run. Isolated, it sees the system's packages and lets pip fall back to a
    user install, into the task's own space (PYTHONUSERBASE)."""
    root = host_close() / "venvs" / "process"
    python = root / "bin" / "python"
    if python.exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    isolated = isolation_on()
    with open(root.parent / ".process.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not python.exists():
            command = [_venv_python(isolated), "-m", "venv", "--clear"]
            command += ["--system-site-packages"] if isolated else []
            made = subprocess.run([*command, str(root)], capture_output=True, text=True)
            if made.returncode != 0:
                raise TaskError(
                    "Could not create the Process runner's Python environment: "
                    + (made.stderr.strip() or f"exit code {made.returncode}")
                )
    return root


def _venv_python(isolated: bool) -> str:
    """An interpreter the task users can run: Flowsite's own when they can reach it (its
    installation may sit in a home directory closed to them), else the system's."""
    base = Path(sys._base_executable).resolve()  # type: ignore[attr-defined]
    if not isolated or _reachable(base):
        return str(base)
    return shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or str(base)


def _reachable(path: Path) -> bool:
    return all(parent.stat().st_mode & 0o001 for parent in path.parents) and bool(
        path.stat().st_mode & 0o001
    )


@lru_cache(maxsize=1)
def _ca_file() -> str:
    path = host_close() / "ca-certificates.crt"
    data = ca_bundle()
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
        path.chmod(0o644)
    return str(path)


# Interpreters that run a file given as ``. path``: the script then never appears in the
# process's command line, which every user of the host may read in /proc.
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})


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
        work = host_close() / "work"
        workdir, tmpdir = work / spec.task_run_id, work / f"{spec.task_run_id}.tmp"
        user = task_user_take()
        try:
            for stale in (workdir, tmpdir):  # left by an attempt whose worker died
                shutil.rmtree(stale, ignore_errors=True)
            workdir.mkdir(parents=True)
            tmpdir.mkdir()
            _files_write(workdir, spec.files)
            script = tmpdir / "script"
            script.write_text(spec.shell_script, encoding="utf-8")
            user.chown(workdir, tmpdir)
            for volume in spec.volumes:  # the task may write only where it is meant to
                if not volume.read_only:
                    user.chown(Path(volume.source))
            venv = task_venv()
            env = task_environment(
                spec, user=user, workdir=workdir, tmpdir=tmpdir, venv=venv, ca_file=_ca_file()
            )
            if user.uid is None:
                sink.system(ISOLATION_OFF, "WARN")
            process = subprocess.Popen(
                _command(spec, script),
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, so kill reaches children
                # None keeps the worker's user: isolation is off.
                user=user.uid,
                group=user.uid,
                extra_groups=None if user.uid is None else [],
            )
        except (TaskError, OSError) as exc:
            user.release()
            shutil.rmtree(workdir, ignore_errors=True)
            shutil.rmtree(tmpdir, ignore_errors=True)
            if isinstance(exc, TaskError):
                raise
            raise TaskError(f"Could not start '{spec.interpreter[0]}': {exc}") from exc
        return ProcessHandle(process, workdir, tmpdir, user)


def _command(spec: RunSpec, script: Path) -> list[str]:
    interpreter = spec.interpreter
    if len(interpreter) >= 2 and interpreter[-1] == "-c" and Path(interpreter[0]).name in SHELLS:
        return [*interpreter, f". {shlex.quote(str(script))}"]
    return [*interpreter, spec.shell_script]


def _files_write(workdir: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = workdir / workdir_file_check(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


class ProcessHandle:
    def __init__(
        self, process: subprocess.Popen[bytes], workdir: Path, tmpdir: Path, user: TaskUser
    ):
        self.process = process
        self.workdir, self.tmpdir = workdir, tmpdir
        self.user = user

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
        self.user.stop_leftovers()  # what left the process group too

    def wait(self) -> int:
        code = self.process.wait()
        # Its script has ended: whatever still runs under its id is a leftover, and must
        # not touch the files collected next.
        self.user.stop_leftovers()
        return code

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
                with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as content:
                    # A hard link to someone else's file is not the task's to hand on.
                    owner = os.fstat(content.fileno()).st_uid
                    if self.user.uid is not None and owner != self.user.uid:
                        continue
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
        self.user.release()
        shutil.rmtree(self.workdir, ignore_errors=True)
        shutil.rmtree(self.tmpdir, ignore_errors=True)

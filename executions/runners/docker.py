"""Runs a script in a Docker container, through the Docker API only.

Files go in with ``put_archive`` (no host bind mounts), so a remote DOCKER_HOST works;
output files come back with ``get_archive``, before the container is removed.
Containers carry this installation's, the execution's and the task run's ids as labels
so orphans can be found, and run with limits and without privileges to gain.
"""

from __future__ import annotations

import contextlib
import io
import math
import posixpath
import shlex
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container
from docker.types import Mount
from requests.exceptions import RequestException

from flowsite.values import format_memory

from .base import (
    FileKeeper,
    LineSink,
    RunSpec,
    task_env,
    workdir_file_check,
)
from .docker_stream import demuxed_chunks, socket_timeout_disable
from .engine import (
    CA_DIR,
    CA_PATH,
    archive,
    ca_volume_ensure,
    docker_client,
    docker_failure,
    image_ensure,
    installation_labels,
)
from .globs import glob_base, glob_matcher

WORKDIR = "/flowsite"

# What apt and pip need as root in a container, found by trying each one away on Debian
# images: apt drops to its _apt user (SETUID, SETGID) and hands it its directories
# (CHOWN, DAC_OVERRIDE, FOWNER); dpkg keeps the setgid bits of what it installs (FSETID).
# Docker's other defaults go: KILL, MKNOD, NET_RAW, NET_BIND_SERVICE, SETFCAP, SETPCAP,
# SYS_CHROOT, AUDIT_WRITE. With no-new-privileges, no setuid program gives any back.
CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETGID", "SETUID"]


def container_limits(spec: RunSpec) -> dict[str, Any]:
    """The limits and privileges of a task's container: the task's own memory and cpu
    (Kestra's taskRunner properties) or the installation's defaults."""
    memory = spec.memory_bytes or settings.FLOWSITE_CONTAINER_MEMORY or None
    cpus = spec.cpus or settings.FLOWSITE_CONTAINER_CPUS or None
    return {
        "mem_limit": memory,
        # No swap beyond the limit (Docker's default doubles it where the host swaps).
        "memswap_limit": memory,
        "nano_cpus": int(cpus * 1e9) if cpus else None,
        "pids_limit": settings.FLOWSITE_CONTAINER_PIDS or None,
        "security_opt": ["no-new-privileges"],
        "cap_drop": ["ALL"],
        "cap_add": CAPABILITIES,
    }


INLINE_FILES_LIMIT = 64 * 1024  # one argument may hold 128 KiB; larger files go by archive


class DockerRunner:
    def start(self, spec: RunSpec, sink: LineSink) -> DockerHandle:
        client = docker_client()
        image_ensure(client=client, image=spec.image, pull_policy=spec.pull_policy, sink=sink)
        try:
            ca_volume = ca_volume_ensure(client=client, image=spec.image)
        except (DockerException, RequestException) as exc:
            raise docker_failure(exc, "prepare the volume of trusted certificates") from exc
        inline, archived = _files_split(spec.files)
        script = _heredocs(spec, inline) + spec.shell_script
        limits = container_limits(spec)
        try:
            container = client.containers.create(
                spec.image,
                command=_reporting_exit_code(spec, [*spec.interpreter, script]),
                working_dir=WORKDIR,
                environment={**task_env(spec, ca_bundle_path=CA_PATH), "WORKING_DIR": WORKDIR},
                labels={**spec.labels, **installation_labels()},
                mounts=[
                    Mount(CA_DIR, ca_volume, type="volume", read_only=True),
                    *(
                        Mount(v.target, v.source, type="volume", read_only=v.read_only)
                        for v in spec.volumes
                    ),
                ],
                **limits,
                network_mode=settings.FLOWSITE_CONTAINER_NETWORK or None,  # None: the default
                detach=True,
                tty=False,
                stdin_open=False,
            )
        except (DockerException, RequestException) as exc:
            raise docker_failure(exc, f"create a container from '{spec.image}'") from exc
        handle = DockerHandle(container, memory_limit=limits["mem_limit"])
        try:
            if archived:
                files = {f"{WORKDIR}/{name}": data for name, data in archived.items()}
                container.put_archive("/", archive(files))
            # Attach before start so not a byte of output is missed.
            handle.socket = client.api.attach_socket(
                str(container.id), params={"stdout": 1, "stderr": 1, "stream": 1, "logs": 1}
            )
            socket_timeout_disable(handle.socket)
            container.start()
        except (DockerException, RequestException) as exc:
            handle.cleanup()
            raise docker_failure(exc, f"start the container from '{spec.image}'") from exc
        return handle


def _files_split(files: dict[str, str | bytes]) -> tuple[dict[str, str], dict[str, bytes]]:
    """(small text files to write from the script, the others to upload as an archive).

    Writing from the script spares a round trip through the API, but only text fits a
    heredoc, and one argument may hold 128 KiB. Bytes always go by archive, exactly.
    """
    for name in files:
        workdir_file_check(name)
    texts = {name: content for name, content in files.items() if isinstance(content, str)}
    if sum(len(text.encode()) for text in texts.values()) > INLINE_FILES_LIMIT:
        texts = {}
    archived = {
        name: content.encode() if isinstance(content, str) else content
        for name, content in files.items()
        if name not in texts
    }
    return texts, archived


def _heredocs(spec: RunSpec, files: dict[str, str]) -> str:
    """Shell that writes the task's files: cheaper than an archive through the API."""
    end = f"FLOWSITE_EOF_{spec.task_run_id}"
    parts = []
    for name, text in files.items():
        if "/" in name:
            parts.append(f"mkdir -p {shlex.quote(posixpath.dirname(name))}\n")
        newline = "" if text.endswith("\n") else "\n"
        parts.append(f"cat > {shlex.quote(name)} <<'{end}'\n{text}{newline}{end}\n")
    return "".join(parts)


def _reporting_exit_code(spec: RunSpec, command: list[str]) -> list[str]:
    """Runs ``command`` and then prints its exit code on stderr after a marker.

    The engine reports a container's end some 70 ms after its output ends; the marker
    lets the task end with its output.

    This shell is the container's first process, which the kernel spares every signal
    it has no handler for: it traps SIGTERM (the engine's stop) and sends it on to every
    process of the container (its process group), ignoring its own copy, then waits
    for the task to end, so a task may clean up before the SIGKILL that follows.
    """
    report = (
        "trap 'trap \"\" TERM; kill -TERM 0' TERM; "
        '"$@" & child=$!; wait $child; code=$?; '
        # A wait that a trapped signal cut short: wait again for the task's own end.
        "while kill -0 $child 2>/dev/null; do wait $child; code=$?; done; "
        f'printf "%s%s\\n" {spec.exit_marker} "$code" >&2; exit $code'
    )
    return ["/bin/sh", "-c", report, "flowsite", *command]


class DockerHandle:
    def __init__(self, container: Container, *, memory_limit: int | None = None):
        self.container = container
        self.memory_limit = memory_limit
        self.socket: Any = None  # the attach socket: both streams, multiplexed
        self._killed = threading.Event()

    def chunks(self) -> Iterator[tuple[str, bytes]]:
        assert self.socket is not None
        try:
            yield from demuxed_chunks(self.socket)
        except (DockerException, RequestException, OSError) as exc:
            raise docker_failure(exc, "the task ran", running=True) from exc

    def terminate(self, grace: float) -> None:
        """The engine's stop: SIGTERM, then SIGKILL after ``grace`` (the driver's own
        SIGKILL follows too, should the engine not answer). The container's first
        process is the exit-code wrapper, which hands SIGTERM to every process of the
        task (see _reporting_exit_code). The stop call lasts as long as the task takes
        to end: it is made off the driving thread, which keeps reading the output."""
        self._killed.set()

        def stop() -> None:
            with contextlib.suppress(DockerException, RequestException):
                self.container.stop(timeout=max(1, math.ceil(grace)))

        threading.Thread(
            target=stop, name=f"stop-{str(self.container.id)[:12]}", daemon=True
        ).start()

    def kill(self) -> None:
        self._killed.set()
        # It may have ended meanwhile, or the engine be gone (the task then fails on that).
        with contextlib.suppress(DockerException, RequestException):
            self.container.kill()

    def wait(self) -> int:
        try:
            return int(self.container.wait()["StatusCode"])
        except (NotFound, APIError):
            return 137 if self._killed.is_set() else -1
        except (DockerException, RequestException) as exc:
            if self._killed.is_set():
                return 137
            raise docker_failure(exc, "the task ran", running=True) from exc

    def end_reason(self, exit_code: int) -> str:
        """Names the kernel's out-of-memory kill, which a task only sees as exit code 137
        (or as whatever its script made of a killed child)."""
        if exit_code == 0 or self._killed.is_set():
            return ""
        # The engine records the kill by the time the container has ended, which it does
        # just after the exit code was reported.
        with contextlib.suppress(APIError, DockerException, RequestException):
            self.container.wait(timeout=10)
            self.container.reload()
        if not self.container.attrs.get("State", {}).get("OOMKilled"):
            return ""
        if not self.memory_limit:
            return "killed: out of memory"
        return (
            f"killed: out of memory, limit {format_memory(self.memory_limit)} "
            "(a task raises its own with taskRunner: memory: memory: 1GB)"
        )

    def collect(self, patterns: list[str], keep: FileKeeper) -> list[str]:
        """Reads only the directories the patterns can match in, as tar streams."""
        matches = glob_matcher(patterns)
        kept: dict[str, None] = {}  # ordered, and quick to ask
        for base in _search_roots(patterns):
            try:
                chunks, _ = self.container.get_archive(f"{WORKDIR}/{base}".rstrip("/"))
            except NotFound:
                continue  # nothing there: the pattern matches no file
            except (DockerException, RequestException) as exc:
                raise docker_failure(exc, "collecting the output files", running=True) from exc
            with tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as tar:
                for member in tar:
                    name = _workdir_name(member.name, base)
                    if not member.isreg() or name in kept or not matches(name):
                        continue
                    _keep_member(tar, member, name, keep)
                    kept[name] = None
        return list(kept)

    def cleanup(self) -> None:
        # An engine that is gone takes its containers with it; one that comes back has
        # them stopped, and the sweep removes them (they are labelled).
        with contextlib.suppress(DockerException, RequestException):
            self.container.remove(force=True)
        if self.socket is not None:
            with contextlib.suppress(OSError):
                self.socket.close()


SPOOL_IN_MEMORY = 8 * 1024 * 1024  # larger output files wait on disk, not in memory


def _keep_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, name: str, keep: FileKeeper
) -> None:
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has content
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        shutil.copyfileobj(source, spool)
        spool.seek(0)
        keep(name, spool)


def _search_roots(patterns: list[str]) -> list[str]:
    """The smallest set of paths under the working directory that holds every match."""
    bases = sorted({glob_base(pattern) for pattern in patterns}, key=len)
    roots: list[str] = []
    for base in bases:
        if not any(root == "" or base == root or base.startswith(root + "/") for root in roots):
            roots.append(base)
    return roots


def _workdir_name(member: str, base: str) -> str:
    """A member of get_archive(WORKDIR/base) as a path relative to the working directory:
    the archive names entries from the last part of the path asked for."""
    if not base:
        return member.partition("/")[2]
    return posixpath.join(posixpath.dirname(base), member)


class _ChunkReader(io.RawIOBase):
    """The chunks of a get_archive stream as a file, for tarfile's streaming mode."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

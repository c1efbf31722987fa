"""Runs a script in a Docker container, through the Docker API only.

Files go in with ``put_archive`` (no host bind mounts), so a remote DOCKER_HOST works;
output files come back with ``get_archive``, before the container is removed.
Containers carry the execution and task run ids as labels so orphans can be found.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import posixpath
import shlex
import shutil
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container
from docker.types import Mount
from docker.utils import parse_repository_tag

from .base import (
    STDERR,
    STDOUT,
    FileKeeper,
    LineSink,
    RunSpec,
    TaskError,
    ca_bundle,
    glob_base,
    glob_matcher,
    task_env,
    workdir_file_check,
)

WORKDIR = "/flowsite"
CA_DIR = "/etc/flowsite"
CA_FILE = "ca-certificates.crt"
CA_PATH = f"{CA_DIR}/{CA_FILE}"


@lru_cache(maxsize=1)
def docker_client() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except DockerException as exc:
        docker_client.cache_clear()
        raise TaskError(
            f"No Docker engine answers ({exc}). Start Docker or set DOCKER_HOST, "
            "or run the task with taskRunner type io.kestra.plugin.core.runner.Process."
        ) from exc
    return client


def image_ensure(
    *, client: docker.DockerClient, image: str, pull_policy: str, sink: LineSink
) -> None:
    """Make ``image`` present according to Kestra's pull policies, or raise TaskError."""
    present = _image_present(client, image)
    if pull_policy == "NEVER":
        if not present:
            raise TaskError(
                f"Image '{image}' is not on this worker's Docker engine and pullPolicy is NEVER"
            )
        return
    if pull_policy == "IF_NOT_PRESENT" and present:
        return
    repository, tag = parse_repository_tag(image)
    sink.system(f"Pulling image {image}")
    try:
        client.images.pull(repository, tag=tag or "latest")
    except (APIError, DockerException) as exc:
        reason = getattr(exc, "explanation", None) or str(exc)
        if present:  # ALWAYS asked for a fresh copy; the local one still runs the task
            sink.system(f"Could not pull image '{image}' ({reason}); using the local copy", "WARN")
            return
        raise TaskError(
            f"Image '{image}' is not present and could not be pulled: {reason}"
        ) from exc


def _image_present(client: docker.DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True


def _archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        now = time.time()
        for directory in _parent_dirs(name.lstrip("/") for name in files):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = now
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size = len(data)
            info.mode = 0o644
            info.mtime = now
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _parent_dirs(names: Iterable[str]) -> list[str]:
    """Every directory the archive's files sit in, parents first."""
    dirs = {posixpath.dirname(name) for name in names}
    for directory in list(dirs):
        while directory:
            dirs.add(directory)
            directory = posixpath.dirname(directory)
    return sorted(dirs - {""}, key=lambda d: d.count("/"))


INLINE_FILES_LIMIT = 64 * 1024  # one argument may hold 128 KiB; larger files go by archive


class DockerRunner:
    def start(self, spec: RunSpec, sink: LineSink) -> DockerHandle:
        client = docker_client()
        image_ensure(client=client, image=spec.image, pull_policy=spec.pull_policy, sink=sink)
        ca_volume = ca_volume_ensure(client=client, image=spec.image)
        inline, archived = _files_split(spec.files)
        script = _heredocs(spec, inline) + spec.shell_script
        try:
            container = client.containers.create(
                spec.image,
                command=_reporting_exit_code(spec, [*spec.interpreter, script]),
                working_dir=WORKDIR,
                environment={**task_env(spec, ca_bundle_path=CA_PATH), "WORKING_DIR": WORKDIR},
                labels=spec.labels,
                mounts=[Mount(CA_DIR, ca_volume, type="volume", read_only=True)],
                mem_limit=spec.memory_bytes,
                nano_cpus=int(spec.cpus * 1e9) if spec.cpus else None,
                detach=True,
                tty=False,
                stdin_open=False,
            )
        except (APIError, DockerException) as exc:
            raise TaskError(f"Could not create a container from '{spec.image}': {exc}") from exc
        handle = DockerHandle(container)
        try:
            if archived:
                files = {f"{WORKDIR}/{name}": data for name, data in archived.items()}
                container.put_archive("/", _archive(files))
            # Attach before start so not a byte of output is missed.
            handle.stream = container.attach(
                stdout=True, stderr=True, stream=True, logs=True, demux=True
            )
            container.start()
        except (APIError, DockerException) as exc:
            handle.cleanup()
            raise TaskError(f"Could not start the container from '{spec.image}': {exc}") from exc
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
    """
    report = f'"$@"; code=$?; printf "%s%s\\n" {spec.exit_marker} "$code" >&2; exit $code'
    return ["/bin/sh", "-c", report, "flowsite", *command]


_ca_volumes: set[tuple[str, str]] = set()
_ca_lock = threading.Lock()


def ca_volume_ensure(*, client: docker.DockerClient, image: str) -> str:
    """A named volume holding the CA bundle, filled once per engine.

    A volume, not a bind mount of a host file: it lives on the engine's host, so a remote
    DOCKER_HOST works, and it spares every task an archive upload.
    """
    data = ca_bundle()
    name = f"flowsite-ca-{hashlib.sha256(data).hexdigest()[:16]}"
    key = (client.api.base_url, name)
    if key in _ca_volumes:
        return name
    with _ca_lock:
        if key in _ca_volumes:
            return name
        try:
            client.volumes.get(name)
        except NotFound:
            client.volumes.create(name, labels={"flowsite.ca": "1"})
        # The volume may be new, or left empty by a crash: check, and fill it if so.
        helper = client.containers.create(
            image,
            command=["true"],
            mounts=[Mount("/ca", name, type="volume")],
            labels={"flowsite.helper": "ca"},
        )
        try:
            try:
                helper.get_archive(f"/ca/{CA_FILE}")
            except NotFound:
                helper.put_archive("/ca", _archive({CA_FILE: data}))
        finally:
            helper.remove(force=True)
        _ca_volumes.add(key)
    return name


class DockerHandle:
    def __init__(self, container: Container):
        self.container = container
        self.stream: Iterator[tuple[bytes | None, bytes | None]] | None = None
        self._killed = threading.Event()

    def chunks(self) -> Iterator[tuple[str, bytes]]:
        assert self.stream is not None
        for out, err in self.stream:
            if out:
                yield STDOUT, out
            if err:
                yield STDERR, err

    def kill(self) -> None:
        self._killed.set()
        with contextlib.suppress(NotFound, APIError):  # it may have ended meanwhile
            self.container.kill()

    def wait(self) -> int:
        try:
            return int(self.container.wait()["StatusCode"])
        except (NotFound, APIError):
            return 137 if self._killed.is_set() else -1

    def collect(self, patterns: list[str], keep: FileKeeper) -> list[str]:
        """Reads only the directories the patterns can match in, as tar streams."""
        matches = glob_matcher(patterns)
        kept: dict[str, None] = {}  # ordered, and quick to ask
        for base in _search_roots(patterns):
            try:
                chunks, _ = self.container.get_archive(f"{WORKDIR}/{base}".rstrip("/"))
            except NotFound:
                continue  # nothing there: the pattern matches no file
            with tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as tar:
                for member in tar:
                    name = _workdir_name(member.name, base)
                    if not member.isreg() or name in kept or not matches(name):
                        continue
                    _keep_member(tar, member, name, keep)
                    kept[name] = None
        return list(kept)

    def cleanup(self) -> None:
        with contextlib.suppress(NotFound, APIError):
            self.container.remove(force=True)


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


def containers_reap_orphans(
    *, is_running: Callable[[str], bool], older_than: float = 60, execution_id: str = ""
) -> int:
    """Remove task containers whose task run is no longer running (a worker died, or a
    removal failed), of one execution or of all. Only this worker's engine is looked
    at; returns how many went."""
    labels = ["flowsite.taskrun"]
    if execution_id:
        labels.append(f"flowsite.execution={execution_id}")
    try:
        client = docker.from_env(timeout=30)
        containers = client.containers.list(all=True, filters={"label": labels})
    except DockerException:
        return 0  # no engine here: nothing of ours can be left on it
    reaped = 0
    now = time.time()
    for container in containers:
        created = container.attrs.get("Created", "")
        age = now - _docker_time(created) if created else older_than + 1
        if age > older_than and not is_running(container.labels["flowsite.taskrun"]):
            with contextlib.suppress(NotFound, APIError):
                container.remove(force=True)
                reaped += 1
    return reaped


def _docker_time(stamp: str) -> float:
    from datetime import datetime

    # Docker writes nanoseconds; Python reads up to microseconds.
    head, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{fraction[:6] or '0'}+00:00").timestamp()

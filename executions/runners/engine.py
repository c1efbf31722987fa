"""The Docker engine a worker talks to: the client, images, the CA volume, and which
containers are this installation's (their labels, and the reaping of orphans)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import posixpath
import re
import tarfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache

import docker
from django.conf import settings
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container
from docker.types import Mount
from docker.utils import parse_repository_tag
from requests.exceptions import RequestException

from .base import LineSink, TaskError, ca_bundle

CA_DIR = "/etc/flowsite"
CA_FILE = "ca-certificates.crt"
CA_PATH = f"{CA_DIR}/{CA_FILE}"
INSTALLATION_LABEL = "flowsite.installation"
DEFAULT_ENGINE = "unix:///var/run/docker.sock"  # docker-py's, when DOCKER_HOST is unset


def installation_labels() -> dict[str, str]:
    """The label every container Flowsite starts carries, naming this installation."""
    return {INSTALLATION_LABEL: settings.FLOWSITE_INSTALLATION_ID}


def engine_address() -> str:
    """The Docker engine this process talks to, as DOCKER_HOST names it."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_ENGINE


@lru_cache(maxsize=1)
def docker_client() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except (DockerException, RequestException) as exc:
        docker_client.cache_clear()
        raise TaskError(
            f"Docker engine at {engine_address()} is unreachable: {docker_reason(exc)}. "
            "Start Docker or set DOCKER_HOST, or run the task with taskRunner type "
            "io.kestra.plugin.core.runner.Process."
        ) from exc
    return client


def docker_failure(exc: Exception, doing: str, *, running: bool = False) -> TaskError:
    """A Docker error in words: the engine's address, what Flowsite was doing, and why,
    never a raw ConnectionError(ProtocolError(...))."""
    address = engine_address()
    if isinstance(exc, APIError) and running:
        return TaskError(f"Docker engine at {address} failed while {doing}: {docker_reason(exc)}")
    if isinstance(exc, APIError):
        return TaskError(f"Docker engine at {address} could not {doing}: {docker_reason(exc)}")
    if running:
        return TaskError(f"Lost the Docker engine at {address} while {doing}: {docker_reason(exc)}")
    return TaskError(
        f"Docker engine at {address} is unreachable (while trying to {doing}): {docker_reason(exc)}"
    )


def docker_reason(exc: BaseException) -> str:
    """The innermost reason of a Docker or HTTP error: 'Connection refused', 'No such
    file or directory', or the engine's own explanation."""
    if isinstance(exc, APIError):
        explanation = exc.explanation
        if isinstance(explanation, bytes):
            explanation = explanation.decode(errors="replace")
        return str(explanation or exc)
    seen: set[int] = set()
    reason: BaseException = exc
    while id(reason) not in seen:
        seen.add(id(reason))
        inner = getattr(reason, "reason", None)  # urllib3's MaxRetryError
        if not isinstance(inner, BaseException):
            inner = next((arg for arg in reason.args if isinstance(arg, BaseException)), None)
        if inner is None:  # docker-py words its own errors and chains the cause
            inner = reason.__cause__
        if inner is None:
            break
        reason = inner
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    text = str(reason.args[-1] if reason.args else reason) or type(reason).__name__
    if errno := re.search(r"\[Errno -?\d+\] ([^'\")]+)", text):  # urllib3 words OSErrors
        return errno.group(1).strip()
    return text.strip("'\" ")


def image_ensure(
    *, client: docker.DockerClient, image: str, pull_policy: str, sink: LineSink
) -> None:
    """Make ``image`` present according to Kestra's pull policies, or raise TaskError."""
    try:
        present = _image_present(client, image)
    except (DockerException, RequestException) as exc:
        raise docker_failure(exc, f"look up image '{image}'") from exc
    if pull_policy == "NEVER":
        if not present:
            raise TaskError(
                f"Image '{image}' is not on the Docker engine at {engine_address()} "
                "and pullPolicy is NEVER"
            )
        return
    if pull_policy == "IF_NOT_PRESENT" and present:
        return
    repository, tag = parse_repository_tag(image)
    sink.system(f"Pulling image {image}")
    try:
        client.images.pull(repository, tag=tag or "latest")
    except (DockerException, RequestException) as exc:
        reason = docker_reason(exc)
        if present:  # ALWAYS asked for a fresh copy; the local one still runs the task
            sink.system(f"Could not pull image '{image}' ({reason}); using the local copy", "WARN")
            return
        raise TaskError(
            f"Image '{image}' is not on the Docker engine at {engine_address()} "
            f"and could not be pulled: {reason}"
        ) from exc


def _image_present(client: docker.DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True


def archive(files: dict[str, bytes]) -> bytes:
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


_ca_volumes: set[tuple[str, str]] = set()
_ca_lock = threading.Lock()


def ca_volume_ensure(*, client: docker.DockerClient, image: str) -> str:
    """A named volume holding the CA bundle, filled once per engine.

    A volume, not a bind mount of a host file: it lives on the engine's host, so a remote
    DOCKER_HOST works, and it spares every task an archive upload.
    """
    data = ca_bundle()
    name = f"flowsite-ca-{hashlib.sha256(data).hexdigest()[:16]}"
    key = (engine_address(), name)  # base_url is the same for every unix socket
    if key in _ca_volumes:
        return name
    with _ca_lock:
        if key in _ca_volumes:
            return name
        volume_file_ensure(
            client,
            volume=name,
            image=image,
            file=CA_FILE,
            content=lambda: archive({CA_FILE: data}),
            labels={"flowsite.ca": "1"},
        )
        _ca_volumes.add(key)
    return name


def volume_file_ensure(
    client: docker.DockerClient,
    *,
    volume: str,
    image: str,
    file: str,
    content: Callable[[], bytes],
    labels: dict[str, str],
) -> None:
    """A named volume holding ``file``: created if missing and filled with ``content`` (a
    tar archive) if the file is not there, as when the volume is new or a crash left it
    empty. ``image`` runs the helper container that reaches it; it never starts."""
    try:
        client.volumes.get(volume)
    except NotFound:
        client.volumes.create(volume, labels=labels)
    helper = client.containers.create(
        image,
        command=["true"],
        mounts=[Mount("/volume", volume, type="volume")],
        labels={**installation_labels(), "flowsite.helper": volume},
    )
    try:
        try:
            helper.get_archive(f"/volume/{file}")
        except NotFound:
            helper.put_archive("/volume", content())
    finally:
        helper.remove(force=True)


def containers_reap_orphans(
    *, is_running: Callable[[str], bool], older_than: float = 60, execution_id: str = ""
) -> int:
    """Remove task containers whose task run is no longer running (a worker died, or a
    removal failed), of one execution or of all. Only this worker's engine and this installation's
    containers are looked at; returns how many went."""
    # Only this installation's: another one on the same engine has its own task runs,
    # which this one's database does not know and would take for orphans.
    labels = ["flowsite.taskrun"]
    if execution_id:
        labels.append(f"flowsite.execution={execution_id}")
    containers = _installation_containers(labels)
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


def containers_remove(*, task_run_id: str) -> int:
    """Remove, at once, the containers of a task run whose worker died, on this host's
    engine (another host's clock removes those of its own). Returns how many went."""
    removed = 0
    for container in _installation_containers([f"flowsite.taskrun={task_run_id}"]):
        with contextlib.suppress(NotFound, APIError):
            container.remove(force=True)
            removed += 1
    return removed


def _docker_time(stamp: str) -> float:
    # Docker writes nanoseconds; Python reads up to microseconds.
    head, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{fraction[:6] or '0'}+00:00").timestamp()


def _installation_containers(labels: list[str]) -> list[Container]:
    """This installation's containers on this worker's engine that carry ``labels``; none
    when there is no engine here (nothing of ours can be left on it)."""
    mine = [*labels, f"{INSTALLATION_LABEL}={settings.FLOWSITE_INSTALLATION_ID}"]
    try:
        client = docker.from_env(timeout=30)
        return list(client.containers.list(all=True, filters={"label": mine}))
    except (DockerException, RequestException):
        return []

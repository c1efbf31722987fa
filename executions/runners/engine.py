"""The Docker engine a worker talks to: the client, images, the CA volume, and which
containers are this installation's (their labels, and the reaping of orphans)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import posixpath
import tarfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache

import docker
from django.conf import settings
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import Mount
from docker.utils import parse_repository_tag

from .base import LineSink, TaskError, ca_bundle

CA_DIR = "/etc/flowsite"
CA_FILE = "ca-certificates.crt"
CA_PATH = f"{CA_DIR}/{CA_FILE}"
INSTALLATION_LABEL = "flowsite.installation"


def installation_labels() -> dict[str, str]:
    """The label every container Flowsite starts carries, naming this installation."""
    return {INSTALLATION_LABEL: settings.FLOWSITE_INSTALLATION_ID}


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
            labels={**installation_labels(), "flowsite.helper": "ca"},
        )
        try:
            try:
                helper.get_archive(f"/ca/{CA_FILE}")
            except NotFound:
                helper.put_archive("/ca", archive({CA_FILE: data}))
        finally:
            helper.remove(force=True)
        _ca_volumes.add(key)
    return name


def containers_reap_orphans(
    *, is_running: Callable[[str], bool], older_than: float = 60, execution_id: str = ""
) -> int:
    """Remove task containers whose task run is no longer running (a worker died, or a
    removal failed), of one execution or of all. Only this worker's engine and this installation's
    containers are looked at; returns how many went."""
    # Only this installation's: another one on the same engine has its own task runs,
    # which this one's database does not know and would take for orphans.
    labels = ["flowsite.taskrun", f"{INSTALLATION_LABEL}={settings.FLOWSITE_INSTALLATION_ID}"]
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
    # Docker writes nanoseconds; Python reads up to microseconds.
    head, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{fraction[:6] or '0'}+00:00").timestamp()

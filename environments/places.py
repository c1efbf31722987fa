"""Where environments live: a named volume on the Docker engine, or a directory of the
worker's host for the Process runner; and how a run sees one.

A volume, not a host directory bound into containers: it lives on the engine's host, so
a remote DOCKER_HOST works. A run mounts it read-only. The builds get uv the same way,
from a volume filled once per engine with the binary of uv's own wheel (no image pulled).
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import docker
import uv
from docker.errors import APIError, DockerException, NotFound
from requests.exceptions import RequestException

from executions.runners.base import LineSink, Volume
from executions.runners.engine import (
    docker_client,
    docker_failure,
    engine_address,
    image_ensure,
    installation_labels,
    volume_file_ensure,
)
from executions.runners.isolation import host_close, isolation_on
from executions.runners.process import task_venv

from .build import BuildSpec
from .models import PythonEnvironment

ENV_TARGET = "/flowsite-env"  # where a container sees its environment
UV_TARGET = "/flowsite-uv"
ENV_LABEL = "flowsite.pyenv"
PLACE_VOLUME = "flowsite-engine"
PLACE_LABEL = "flowsite.engine"


@dataclass(frozen=True)
class Place:
    runner: str
    place: str
    label: str
    platform: str


def setup_lines(env_dir: str) -> list[str]:
    """Shell lines that put an environment first on PYTHONPATH and PATH."""
    site = f"{env_dir}/site"
    return [
        f'export PYTHONPATH="{site}${{PYTHONPATH:+:$PYTHONPATH}}"',
        f'export PATH="{site}/bin:$PATH"',
    ]


def uv_binary() -> Path:
    """uv from its wheel, installed with Flowsite."""
    return Path(uv.find_uv_bin())


@lru_cache(maxsize=1)
def uv_version() -> str:
    made = subprocess.run([str(uv_binary()), "--version"], capture_output=True, text=True)
    return made.stdout.split()[1] if made.returncode == 0 else "unknown"


# --- Docker ---------------------------------------------------------------------------


def volume_name(environment: PythonEnvironment) -> str:
    return f"flowsite-pyenv-{environment.key}"


@lru_cache(maxsize=8)
def _engine_place(address: str) -> str:
    """The engine's own name for where its volumes are: a token on a volume of its own,
    made by whoever asks first (creating a volume that exists leaves it as it was).

    Not the engine's ID: two engines of one host, or hosts cloned from one image, share it
    (Docker 20.10 makes it from /etc/docker/key.json). Cached by DOCKER_HOST, not by the
    client's base_url: that of every unix socket is the same.
    """
    volumes = docker_client().volumes
    volumes.create(PLACE_VOLUME, labels={PLACE_LABEL: secrets.token_hex(16)})
    return str(volumes.get(PLACE_VOLUME).attrs["Labels"][PLACE_LABEL])


def docker_place(image: str, *, pull_policy: str, sink: LineSink) -> Place:
    """The engine (by a token in its own storage: the same engine under two addresses is
    one place, two engines are two) and the image (by its ID: a tag moved to a new build is
    another platform), pulled first as the task's pull policy says."""
    client = docker_client()
    image_ensure(client=client, image=image, pull_policy=pull_policy, sink=sink)
    try:
        engine = _engine_place(engine_address())
        image_id = str(client.images.get(image).id)
    except (DockerException, RequestException) as exc:
        raise docker_failure(exc, f"look up image '{image}'") from exc
    return Place("docker", engine, engine_address(), image_id)


def docker_volume_present(environment: PythonEnvironment) -> bool:
    """A READY environment whose volume someone removed must not be mounted: Docker would
    create an empty one in its place. Nor one that a container already so created (a
    mount that raced the removal): it has the name but neither the files nor our label."""
    try:
        volume = docker_client().volumes.get(volume_name(environment))
    except NotFound:
        return False
    except (DockerException, RequestException) as exc:
        raise docker_failure(exc, "look up the Python environment's volume") from exc
    return bool((volume.attrs.get("Labels") or {}).get(ENV_LABEL) == environment.key)


def docker_build_spec(environment: PythonEnvironment, image: str) -> BuildSpec:
    client = docker_client()
    name = volume_name(environment)
    try:
        with contextlib.suppress(NotFound):
            client.volumes.get(name).remove(force=True)  # a crashed build's
        client.volumes.create(name, labels={**installation_labels(), ENV_LABEL: environment.key})
        uv_volume = _uv_volume_ensure(client, image)
    except (DockerException, RequestException) as exc:
        raise docker_failure(exc, "prepare the Python environment's volume") from exc
    return BuildSpec(
        image=image,
        env_dir=ENV_TARGET,
        env_volume=Volume(name, ENV_TARGET, read_only=False),
        uv=f"{UV_TARGET}/uv",
        volumes=[Volume(uv_volume, UV_TARGET)],
    )


def docker_run_volume(environment: PythonEnvironment) -> Volume:
    return Volume(volume_name(environment), ENV_TARGET)


def docker_remove(environment: PythonEnvironment) -> bool:
    """Remove its volume; False while a container still uses it (tried again later)."""
    try:
        docker_client().volumes.get(volume_name(environment)).remove(force=True)
    except NotFound:
        return True
    except APIError as exc:
        if exc.status_code == 409:  # in use
            return False
        raise docker_failure(exc, "remove a Python environment's volume") from exc
    except (DockerException, RequestException) as exc:
        raise docker_failure(exc, "remove a Python environment's volume") from exc
    return True


_uv_volumes: set[tuple[str, str]] = set()
_uv_lock = threading.Lock()


def _uv_volume_ensure(client: docker.DockerClient, image: str) -> str:
    """A volume holding uv's binary, filled once per engine and uv version."""
    name = f"flowsite-uv-{uv_version()}"
    key = (engine_address(), name)
    if key in _uv_volumes:
        return name
    with _uv_lock:
        if key in _uv_volumes:
            return name
        volume_file_ensure(
            client,
            volume=name,
            image=image,
            file="uv",
            content=lambda: _executable_archive("uv", uv_binary()),
            labels={"flowsite.uv": uv_version()},
        )
        _uv_volumes.add(key)
    return name


def _executable_archive(name: str, path: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tar.gettarinfo(str(path), arcname=name)
        info.mode, info.uid, info.gid, info.uname, info.gname = 0o755, 0, 0, "", ""
        with open(path, "rb") as content:
            tar.addfile(info, content)
    return buffer.getvalue()


# --- Process --------------------------------------------------------------------------


def _environments_dir() -> Path:
    root = host_close() / "pyenvs"
    root.mkdir(mode=0o755, exist_ok=True)
    return root


@lru_cache(maxsize=1)
def _interpreter() -> str:
    python = task_venv() / "bin" / "python"
    made = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        capture_output=True,
        text=True,
    )
    return f"{python.resolve()} {made.stdout.strip()}"


def process_place() -> Place:
    host = socket.gethostname()
    root = host_close()
    return Place("process", f"{host}:{root}", f"{host} ({root})", _interpreter())


def process_dir(environment: PythonEnvironment) -> Path:
    return _environments_dir() / environment.key


@lru_cache(maxsize=1)
def _process_uv() -> str:
    """uv where task users can run it: Flowsite's own may sit in a closed home."""
    tools = host_close() / "tools"
    tools.mkdir(mode=0o755, exist_ok=True)
    copy = tools / f"uv-{uv_version()}"
    if not copy.exists():
        partial = tools / f".uv-{os.getpid()}"
        shutil.copy2(uv_binary(), partial)
        partial.chmod(0o755)
        partial.replace(copy)
    return str(copy)


def process_build_spec(environment: PythonEnvironment) -> BuildSpec:
    building = _environments_dir() / f"{environment.key}.build"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(mode=0o755)
    return BuildSpec(
        image="",
        env_dir=str(building),
        env_volume=Volume(str(building), str(building), read_only=False),
        uv=_process_uv(),
    )


def process_build_keep(environment: PythonEnvironment) -> None:
    """The built directory, made the worker's own and read-only to tasks, in its place."""
    building = _environments_dir() / f"{environment.key}.build"
    if isolation_on():
        uid, gid = os.geteuid(), os.getegid()
        for directory, dirnames, filenames in os.walk(building):
            for name in [*dirnames, *filenames]:
                path = os.path.join(directory, name)
                os.lchown(path, uid, gid)
                if not os.path.islink(path):
                    executable = os.path.isdir(path) or os.stat(path).st_mode & 0o111
                    os.chmod(path, 0o755 if executable else 0o644)
    os.chown(building, os.geteuid(), os.getegid())
    building.chmod(0o755)
    building.replace(process_dir(environment))


def process_discard(environment: PythonEnvironment) -> None:
    shutil.rmtree(_environments_dir() / f"{environment.key}.build", ignore_errors=True)


def process_present(environment: PythonEnvironment) -> bool:
    return (process_dir(environment) / "site").is_dir()


def process_run_volume(environment: PythonEnvironment) -> Volume:
    path = str(process_dir(environment))
    return Volume(path, path)


def process_remove(environment: PythonEnvironment) -> bool:
    path = process_dir(environment)
    if path.exists():
        # Renamed first: a run starting now finds it gone rather than half removed.
        doomed = path.with_name(f".{environment.key}.removing")
        path.replace(doomed)
        shutil.rmtree(doomed, ignore_errors=True)
    return True

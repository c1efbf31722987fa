"""The volumes Flowsite fills once per engine (trusted certificates, uv): made when
missing, filled when empty, left alone when filled, on a real Docker engine."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import docker
import pytest

from executions.runners.engine import archive, volume_file_ensure

pytestmark = pytest.mark.docker
IMAGE = "python:3.11-slim"


@pytest.fixture
def volume(docker_engine: docker.DockerClient) -> Iterator[str]:
    name = f"flowsite-test-{uuid.uuid4().hex[:12]}"
    yield name
    docker_engine.volumes.get(name).remove(force=True)


def read(client: docker.DockerClient, volume: str, file: str) -> bytes:
    output: bytes = client.containers.run(
        IMAGE, ["cat", f"/v/{file}"], volumes={volume: {"bind": "/v", "mode": "ro"}}, remove=True
    )
    return output


def test_a_missing_volume_is_made_and_filled_once(docker_engine, volume) -> None:
    fills: list[bytes] = []

    def content_of(text: bytes) -> Callable[[], bytes]:
        def content() -> bytes:
            fills.append(text)
            return archive({"file.txt": text})

        return content

    for text in (b"first\n", b"second\n"):
        volume_file_ensure(
            docker_engine,
            volume=volume,
            image=IMAGE,
            file="file.txt",
            content=content_of(text),
            labels={"flowsite.test": "1"},
        )
    assert fills == [b"first\n"]  # the second call found the file and left it
    assert read(docker_engine, volume, "file.txt") == b"first\n"
    assert docker_engine.volumes.get(volume).attrs["Labels"] == {"flowsite.test": "1"}


def test_an_empty_volume_left_by_a_crash_is_filled(docker_engine, volume) -> None:
    docker_engine.volumes.create(volume)
    volume_file_ensure(
        docker_engine,
        volume=volume,
        image=IMAGE,
        file="file.txt",
        content=lambda: archive({"file.txt": b"filled\n"}),
        labels={},
    )
    assert read(docker_engine, volume, "file.txt") == b"filled\n"

"""The web server as ``make run`` serves it: daphne with Flowsite's ASGI handler, which
runs each request on a fixed pool of threads that keep their database connections."""

from __future__ import annotations

import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.tokens import token_create
from tests.conftest import FlowsiteProcess, _free_port, _port_answers, flowsite_env
from tests.personas import make_alice

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 3


@pytest.fixture
def small_server() -> Iterator[tuple[str, int]]:
    port = _free_port()
    server = FlowsiteProcess(
        ["-m", "flowsite.web", "-b", "127.0.0.1", "-p", str(port), "flowsite.asgi:application"],
        flowsite_env(FLOWSITE_WEB_THREADS=str(THREADS)),
        "small-server",
    )
    server.wait_for(lambda: _port_answers(port), "daphne")
    yield f"http://127.0.0.1:{port}", server.process.pid
    server.stop()


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if match := re.fullmatch(r"socket:\[(\d+)\]", target):
            inodes.add(match[1])
    return inodes


def database_connections(pid: int) -> int:
    """How many connections to the test database process ``pid`` holds open now."""
    if connection.vendor == "sqlite":
        database = os.path.realpath(connection.settings_dict["NAME"])
        return sum(
            1
            for fd in Path(f"/proc/{pid}/fd").iterdir()
            if os.path.realpath(fd) == database  # one descriptor per connection
        )
    port = int(connection.settings_dict["PORT"] or 5432)
    inodes = _socket_inodes(pid)
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[9] in inodes:
                count += 1
    return count


def test_the_web_server_holds_at_most_one_database_connection_per_request_thread(
    small_server: tuple[str, int],
) -> None:
    url, pid = small_server
    _, token = token_create(user=make_alice(), name="load", days=7)
    statuses: list[int] = []

    def client() -> None:
        for _ in range(10):
            request = urllib.request.Request(
                f"{url}/api/v1/executions/search", headers={"Authorization": f"Bearer {token}"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)

    clients = [threading.Thread(target=client) for _ in range(8)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()

    assert statuses == [200] * 80
    held = database_connections(pid)
    # Kept for the next requests, but never more than one per thread of the pool.
    assert 1 <= held <= THREADS
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0  # others close theirs

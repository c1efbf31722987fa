"""An execution of a million log lines read back through Kestra's logs API: page after
page in order, and whole, streamed by the real web server with its memory flat."""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accounts.tokens import token_create
from benchmarks.log_api import log_lines_fill, million_line_execution
from executions.models import Execution, TaskRun
from tests.conftest import FlowsiteProcess, _free_port, _port_answers, flowsite_env

pytestmark = pytest.mark.django_db(transaction=True)

LINES = 1_000_000
GROWTH_MIB = 50


@pytest.fixture
def million(alice: Any) -> Execution:
    execution = million_line_execution(LINES, namespace="dev")
    other = TaskRun.objects.create(
        execution=execution, task_id="other", path="other", position=1, attempt=2
    )
    log_lines_fill(other, 3)
    return execution


def _line_numbers(entries: list[dict[str, Any]]) -> list[int]:
    return [int(entry["message"].removeprefix("line ")) for entry in entries]


def test_every_line_comes_back_once_in_order_page_after_page(api: Any, million) -> None:
    seen, last, pages = 0, 0, 0
    path = f"/api/v1/logs/{million.pk}?taskId=count&size=10000"
    while path:
        response = api.get(path)
        assert response.status_code == 200
        numbers = _line_numbers(response.json())
        assert numbers == list(range(last + 1, last + 1 + len(numbers)))
        seen, last, pages = seen + len(numbers), last + len(numbers), pages + 1
        link = response.headers.get("Link")
        path = f"/api/v1/logs/{million.pk}" + link[1 : link.index(">")] if link else ""

    assert seen == LINES
    assert pages == LINES // 10000 + 1  # the last one empty: a full page may have a next


def test_kestra_s_page_and_size_read_the_same_lines_as_after_id(api: Any, million) -> None:
    by_page = api.get(f"/api/v1/logs/{million.pk}", {"size": 1000, "page": 501}).json()
    assert _line_numbers(by_page) == list(range(500_001, 501_001))


def test_the_filters_narrow_the_pages(api: Any, million) -> None:
    errors = api.get(f"/api/v1/logs/{million.pk}", {"minLevel": "ERROR", "size": 5}).json()
    assert _line_numbers(errors) == [100, 200, 300, 400, 500]
    other = api.get(f"/api/v1/logs/{million.pk}", {"attempt": 1, "size": 10}).json()
    assert [(e["taskId"], e["message"]) for e in other] == [
        ("other", "line 1"),
        ("other", "line 2"),
        ("other", "line 3"),
    ]


def test_a_page_size_beyond_the_limit_is_refused(api: Any, million) -> None:
    response = api.get(f"/api/v1/logs/{million.pk}", {"size": 10_001})
    assert response.status_code == 400
    assert "size between 1 and 10000" in response.json()["message"]


def test_the_search_finds_one_line_among_a_million(api: Any, million) -> None:
    response = api.get(
        "/api/v1/logs/search", {"q": "line 987654", "filters[executionId][EQUALS]": million.pk}
    )
    assert response.status_code == 200
    assert [e["message"] for e in response.json()["results"]] == ["line 987654"]
    assert response.json()["total"] == 1


def test_the_search_s_total_stops_counting_at_a_hundred_thousand(api: Any, million) -> None:
    response = api.get("/api/v1/logs/search", {"filters[executionId][EQUALS]": million.pk})
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 100_000
    assert [e["message"] for e in page["results"]][:2] == ["line 3", "line 2"]  # newest first


# --- Whole, streamed by daphne -------------------------------------------------------


@pytest.fixture
def web_server() -> Iterator[tuple[int, int]]:
    port = _free_port()
    server = FlowsiteProcess(
        ["-m", "flowsite.web", "-b", "127.0.0.1", "-p", str(port), "flowsite.asgi:application"],
        flowsite_env(),
        "logs-server",
    )
    server.wait_for(lambda: _port_answers(port), "daphne")
    yield port, server.process.pid
    server.stop()


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match is not None
    return int(match[1])


class Download:
    """A GET read as it arrives, the server's RSS sampled meanwhile."""

    def __init__(self, port: int, pid: int, token: str):
        self.port, self.pid, self.token = port, pid, token
        self.peak_kib = 0

    def lines(self, path: str) -> Iterator[bytes]:
        return self._read(path, lambda response: iter(response))

    def chunks(self, path: str) -> Iterator[bytes]:
        return self._read(path, lambda response: iter(lambda: response.read(1 << 16), b""))

    def _read(self, path: str, parts: Any) -> Iterator[bytes]:
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                self.peak_kib = max(self.peak_kib, _rss_kib(self.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        client.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
        response = client.getresponse()
        assert response.status == 200, response.read()[:500]
        self.headers = dict(response.getheaders())
        sampler.start()
        try:
            yield from parts(response)  # as the body comes
        finally:
            done.set()
            sampler.join()
            client.close()


def _warm(download: Download, path: str) -> int:
    """The server's RSS once it has answered a small request of the same kind."""
    for _ in download.lines(path):
        pass
    return _rss_kib(download.pid)


def test_the_download_streams_a_million_lines_with_the_server_s_memory_flat(
    web_server, alice, million
) -> None:
    port, pid = web_server
    _, token = token_create(user=alice, name="download", days=7)
    download = Download(port, pid, token)
    before = _warm(download, f"/api/v1/logs/{million.pk}/download?taskId=other")

    count = 0
    for count, line in enumerate(download.lines(f"/api/v1/logs/{million.pk}/download"), 1):
        if count in (1, LINES):
            assert line.endswith(b"Z INFO line 1\n" if count == 1 else b"Z ERROR line 1000000\n")

    assert count == LINES + 3
    assert download.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Content-Length" not in download.headers  # streamed, not built whole
    growth_mib = (download.peak_kib - before) / 1024
    print(f"server RSS {before / 1024:.0f} MiB, peak {download.peak_kib / 1024:.0f} MiB")
    assert growth_mib < GROWTH_MIB, f"the server grew {growth_mib:.0f} MiB"
    assert (_rss_kib(pid) - before) / 1024 < GROWTH_MIB


def test_the_whole_json_list_streams_with_the_server_s_memory_flat(
    web_server, alice, million
) -> None:
    port, pid = web_server
    _, token = token_create(user=alice, name="download", days=7)
    download = Download(port, pid, token)
    before = _warm(download, f"/api/v1/logs/{million.pk}?taskId=other")

    entries, first, last = 0, b"", b""
    for chunk in download.chunks(f"/api/v1/logs/{million.pk}"):
        entries += chunk.count(b"}")  # one per entry: no message holds one
        first, last = first or chunk, chunk

    assert first.startswith(b'[{"namespace": "dev"') and last.endswith(b'"message": "line 3"}]')
    assert entries == LINES + 3
    assert download.headers["Content-Type"] == "application/json"
    growth_mib = (download.peak_kib - before) / 1024
    print(f"server RSS {before / 1024:.0f} MiB, peak {download.peak_kib / 1024:.0f} MiB")
    assert growth_mib < GROWTH_MIB, f"the server grew {growth_mib:.0f} MiB"


def test_a_client_that_leaves_mid_download_leaves_the_server_answering(
    web_server, alice, million
) -> None:
    port, pid = web_server
    _, token = token_create(user=alice, name="download", days=7)
    download = Download(port, pid, token)
    for _ in range(3):
        for count, _line in enumerate(download.lines(f"/api/v1/logs/{million.pk}/download"), 1):
            if count == 10_000:
                break  # the connection closes with most of the body unread

    lines = list(download.lines(f"/api/v1/logs/{million.pk}/download?taskId=other"))

    assert [line.split(b" ", 1)[1] for line in lines] == [
        b"INFO line 1\n",
        b"INFO line 2\n",
        b"INFO line 3\n",
    ]
    assert (download.peak_kib - _rss_kib(pid)) / 1024 < GROWTH_MIB

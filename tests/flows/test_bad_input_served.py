"""YAML bombs, huge bodies and catastrophic patterns sent to a real daphne server: its
memory stays bounded and it keeps answering."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from accounts.tokens import token_create
from flows.models import Flow
from tests.conftest import FlowsiteProcess, _free_port, _port_answers, flowsite_env
from tests.flows.test_bad_input import INPUTS_FLOW, LAUGHS

pytestmark = pytest.mark.django_db(transaction=True)

# What daphne with Flowsite loaded may grow to: a few hundred MB of headroom, where the
# bombs unbounded took it past 3 GB.
MAX_PEAK_RSS_MB = 400


class Bearer(requests.auth.AuthBase):
    """A token: the server hashes passwords with the production hasher, the tests not."""

    def __init__(self, user: Any) -> None:
        self.header = "Bearer " + token_create(user=user, name="bad input", days=7)[1]

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = self.header
        return request


@pytest.fixture
def served() -> Iterator[tuple[str, int]]:
    port = _free_port()
    server = FlowsiteProcess(
        ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "flowsite.asgi:application"],
        flowsite_env(FLOWSITE_MAX_BODY_BYTES=str(4 * 1024 * 1024)),
        "bad-input-server",
    )
    server.wait_for(lambda: _port_answers(port), "daphne")
    yield f"http://127.0.0.1:{port}", server.process.pid
    server.stop()


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def test_the_server_refuses_bombs_without_growing_and_keeps_answering(
    served: tuple[str, int], alice: Any
) -> None:
    url, pid = served
    Flow.save_source(INPUTS_FLOW, author=alice)
    auth = Bearer(alice)
    yaml_header = {"Content-Type": "application/x-yaml"}
    deep_list = "x: " + "[" * 200_000 + "\n"
    wide_aliases = "a: &a [" + ",".join(["x"] * 1000) + "]\nb: [" + ",".join(["*a"] * 999) + "]\n"
    for bomb in (LAUGHS, deep_list, wide_aliases):
        for path in ("/api/v1/flows", "/api/v1/flows/validate"):
            response = requests.post(url + path, bomb, headers=yaml_header, auth=auth, timeout=30)
            assert response.status_code in (200, 422), response.text[:300]
            assert "line" in response.text
        response = requests.post(
            url + "/api/v1/executions/dev/typed", files={"doc": (None, bomb)}, auth=auth, timeout=30
        )
        assert response.status_code == 422, response.text[:300]
    big = "x" * (8 * 1024 * 1024)
    response = requests.post(url + "/api/v1/flows", big, headers=yaml_header, auth=auth, timeout=30)
    assert response.status_code == 413
    assert "larger than the limit" in response.json()["message"]

    assert peak_rss_mb(pid) < MAX_PEAK_RSS_MB, f"daphne peaked at {peak_rss_mb(pid):.0f} MB"
    answer = requests.get(url + "/api/v1/flows/dev/typed", auth=auth, timeout=10)
    assert answer.status_code == 200 and answer.json()["id"] == "typed"


def test_a_catastrophic_pattern_does_not_hold_other_requests(
    served: tuple[str, int], alice: Any
) -> None:
    url, _ = served
    Flow.save_source(INPUTS_FLOW, author=alice)
    auth = Bearer(alice)
    slow: dict[str, Any] = {}

    def send_the_pattern() -> None:
        slow["response"] = requests.post(
            url + "/api/v1/executions/dev/typed",
            data={"code": "a" * 20_000 + "!"},
            auth=auth,
            timeout=60,
        )

    sender = threading.Thread(target=send_the_pattern)
    sender.start()
    time.sleep(0.2)
    started = time.monotonic()
    answer = requests.get(url + "/api/v1/flows/dev/typed", auth=auth, timeout=30)
    other_request_seconds = time.monotonic() - started
    sender.join(60)
    assert answer.status_code == 200
    assert slow["response"].status_code == 422
    assert "was stopped" in slow["response"].json()["errors"]["code"]
    # The other request waited for neither the pattern nor its thread.
    assert other_request_seconds < 5

"""The whole stack under load, as ``make run`` serves it: starts at a steady rate end in
success with no error and no failed job, within the database connections the settings
promise; a saturated server answers 503 with Retry-After, never 500."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.db import connection
from django_q.models import Failure

from accounts.tokens import token_create
from benchmarks.procfs import tree
from executions.models import TERMINAL_STATES, Execution, State
from flows.models import Flow
from flowsite.connections import connections_needed
from tests.conftest import FlowsiteProcess, _free_port, _port_answers, flowsite_env, wait_until
from tests.flows_helpers import flow_yaml
from tests.personas import make_alice
from tests.test_web_server import database_connections

pytestmark = pytest.mark.django_db(transaction=True)

RATE = 10  # starts a second: modest, for CI's shared cores
SECONDS = 10
WORKERS = 2
WEB_THREADS = 4
LOG_YAML = flow_yaml(
    """\
    - id: note
      type: io.kestra.plugin.core.log.Log
      message: "started by load"
    """,
    flow_id="under-load",
)


@dataclass
class Answer:
    status: int
    body: bytes
    retry_after: str | None


class Client:
    """POST a start with a Bearer token, one kept-alive connection per thread."""

    def __init__(self, url: str, token: str):
        self.host, self.port = url.removeprefix("http://").split(":")
        self.token = token
        self._local = threading.local()

    def post(self, path: str) -> Answer:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(self.host, int(self.port), 60)
        try:
            conn.request("POST", path, headers={"Authorization": f"Bearer {self.token}",
                                                "Content-Length": "0"})  # fmt: skip
            response = conn.getresponse()
            return Answer(response.status, response.read(), response.getheader("Retry-After"))
        except (OSError, http.client.HTTPException):
            self._local.conn = None
            raise


def _serve(name: str, **env: str) -> Iterator[tuple[str, FlowsiteProcess]]:
    port = _free_port()
    stack = FlowsiteProcess(["manage.py", "serve", "--port", str(port)], flowsite_env(**env), name)
    try:
        stack.wait_for(
            lambda: _port_answers(port) and "Clock running" in stack.log_path.read_text(),
            "Flowsite",
            timeout=60,
        )
        yield f"http://127.0.0.1:{port}", stack
    finally:
        stack.stop()


@pytest.fixture
def stack() -> Iterator[tuple[str, FlowsiteProcess]]:
    yield from _serve(
        "load-stack", FLOWSITE_WORKERS=str(WORKERS), FLOWSITE_WEB_THREADS=str(WEB_THREADS)
    )


def _client(url: str) -> Client:
    _, token = token_create(user=make_alice(), name="load", days=7)
    return Client(url, token)


def test_starts_at_a_steady_rate_all_succeed_within_the_promised_connections(
    stack: tuple[str, FlowsiteProcess],
) -> None:
    url, process = stack
    client = _client(url)
    flow = Flow.save_source(LOG_YAML)
    path = f"/api/v1/executions/{flow.namespace}/{flow.flow_id}"
    begin = time.monotonic() + 0.2
    answers: list[Answer] = []
    peak = [0]
    sending = threading.Event()

    def send(n: int) -> None:
        time.sleep(max(0.0, begin + n / RATE - time.monotonic()))
        answers.append(client.post(path))

    def count_connections() -> None:
        while sending.is_set():
            held = sum(database_connections(p.pid) for p in tree(process.process.pid))
            peak[0] = max(peak[0], held)
            time.sleep(0.1)

    sending.set()
    counter = threading.Thread(target=count_connections)
    counter.start()
    try:
        with ThreadPoolExecutor(8) as senders:
            list(senders.map(send, range(RATE * SECONDS)))
    finally:
        sending.clear()
        counter.join()

    assert [a.status for a in answers if a.status != 200] == []
    ids = [json.loads(a.body)["id"] for a in answers]
    going = Execution.objects.filter(pk__in=ids).exclude(state__in=TERMINAL_STATES)
    wait_until(lambda: not going.exists(), timeout=30, what="every execution to end")
    states = Execution.objects.filter(pk__in=ids).values_list("state", flat=True)
    assert sorted(set(states)) == [State.SUCCESS] and len(states) == RATE * SECONDS
    assert list(Failure.objects.values_list("func", "result")) == []
    log = process.log_path.read_text()
    assert "Traceback" not in log and '" 500 ' not in log
    promised = connections_needed(
        web_threads=WEB_THREADS, workers=WORKERS, orm_broker=connection.vendor == "sqlite"
    )
    assert 0 < peak[0] <= promised, (peak[0], promised)


def test_a_request_that_waits_too_long_for_a_web_thread_is_answered_503_and_stores_nothing() -> (
    None
):
    port = _free_port()
    server = FlowsiteProcess(
        ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "flowsite.asgi:application"],
        flowsite_env(FLOWSITE_WEB_THREADS="1", FLOWSITE_WEB_QUEUE_SECONDS="0.02"),
        "busy-server",
    )
    server.wait_for(lambda: _port_answers(port), "daphne")
    try:
        client = _client(f"http://127.0.0.1:{port}")
        flow = Flow.save_source(LOG_YAML)
        with ThreadPoolExecutor(16) as senders:
            answers = list(
                senders.map(
                    lambda _: client.post(f"/api/v1/executions/dev/{flow.flow_id}"), range(48)
                )  # fmt: skip
            )
    finally:
        server.stop()

    statuses = {a.status for a in answers}
    assert statuses == {200, 503}, statuses  # one thread for 16 clients: some had to wait
    busy = [a for a in answers if a.status == 503]
    assert {a.retry_after for a in busy} == {"1"}
    assert json.loads(busy[0].body) == {"message": "The server is busy: try again in a moment"}
    started = sum(1 for a in answers if a.status == 200)
    assert Execution.objects.filter(flow_id=flow.flow_id).count() == started


def test_a_start_the_database_refuses_is_answered_503_with_retry_after() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL refuses connections; SQLite is a file that is always there")
    port = _free_port()
    closed = _free_port()  # nothing listens there: PostgreSQL is down, or out of slots
    database = f"postgres://postgres@127.0.0.1:{closed}/flowsite"
    server = FlowsiteProcess(
        ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "flowsite.asgi:application"],
        flowsite_env(DATABASE_URL=database),
        "refused-server",
    )
    server.wait_for(lambda: _port_answers(port), "daphne")
    try:
        answer = Client(f"http://127.0.0.1:{port}", "some-token").post("/api/v1/executions/a/b")
    finally:
        server.stop()

    assert answer.status == 503 and answer.retry_after == "1"
    assert json.loads(answer.body) == {"message": "The database is busy: try again in a moment"}
    assert "answered 503" in server.log_path.read_text()

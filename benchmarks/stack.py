"""Flowsite as ``make run`` starts it, and a client of its REST API.

``manage.py serve`` becomes the supervisor, which starts daphne and the workers (the
django-q2 cluster with the clock), all on the benchmark's database and queue. Each of its
processes counts its database transactions (FLOWSITE_COUNT_TRANSACTIONS).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import suppress

from django.contrib.auth import get_user_model

from accounts.tokens import token_create
from executions.models import TERMINAL_STATES, Execution, State
from flows.models import Flow

from .environment import BENCH_USER, ROOT, BenchError, Setup
from .procfs import Proc, roles, tree

PORTS = range(8150, 8200)  # where the benchmark may listen


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise BenchError(f"No free port in {PORTS.start}-{PORTS.stop - 1}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False


class Stack:
    def __init__(self, setup: Setup, port: int):
        self.port = port
        self.transactions = setup.data_dir / "stack-transactions"
        self.log_path = setup.data_dir / "stack.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "FLOWSITE_COUNT_TRANSACTIONS": str(self.transactions),
        }
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if _answers(self.port) and "Clock running" in self.log_path.read_text():
                return
            time.sleep(0.1)
        raise BenchError(f"Flowsite did not start in {timeout:g} s:\n{self.log_tail()}")

    def processes(self) -> dict[int, tuple[str, Proc]]:
        """Flowsite's own processes now, by pid, with their role."""
        return roles(self.process.pid)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise BenchError(f"Flowsite exited:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        with suppress(OSError):
            return self.log_path.read_text()[-chars:]
        return ""

    def stop(self) -> None:
        everyone = tree(self.process.pid)
        if self.process.poll() is None:
            self.process.terminate()  # the supervisor stops its children
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for proc in everyone:  # whatever a crash left behind
            with suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signal.SIGKILL)
        self._log.close()


class Api:
    """POST /api/v1/executions/{namespace}/{flowId} with a Bearer token, one kept-alive
    HTTP connection per thread."""

    BUSY_TRIES = 10  # a 503 is sent again after its Retry-After, this many times at most

    def __init__(self, port: int):
        self.port = port
        self.busy = 0  # 503 answers, each sent again: a saturated server, not an error
        self._busy_lock = threading.Lock()
        user, _ = get_user_model().objects.get_or_create(
            username=BENCH_USER, defaults={"is_superuser": True, "is_staff": True}
        )
        _, self.token = token_create(user=user, name="benchmark", days=7)
        self._local = threading.local()

    def execution_create(self, flow: Flow) -> str:
        path = f"/api/v1/executions/{flow.namespace}/{flow.flow_id}"
        for _ in range(self.BUSY_TRIES):
            status, body, retry_after = self._post(path)
            if status != 503 or retry_after is None:
                break
            with self._busy_lock:
                self.busy += 1
            time.sleep(float(retry_after))
        if status != 200:
            raise BenchError(f"POST {path}: {status} {body[:500]!r}")
        return str(json.loads(body)["id"])

    def _post(self, path: str) -> tuple[int, bytes, str | None]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Length": "0"}
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.request("POST", path, headers=headers)
                response = connection.getresponse()
                return response.status, response.read(), response.getheader("Retry-After")
            except (OSError, http.client.HTTPException):
                self._local.connection = None  # the server closed it: open another once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str, *, authorization: str) -> float:
        """GET ``path`` with this Authorization header; how long the answer took."""
        started = time.monotonic()
        connection = self._connection()
        try:
            connection.request("GET", path, headers={"Authorization": authorization})
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self._local.connection = None
            raise
        if response.status != 200:
            raise BenchError(f"GET {path}: {response.status} {body[:500]!r}")
        return time.monotonic() - started

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self._local.connection = connection
        return connection


def wait_done(ids: list[str], stack: Stack, timeout: float, poll: float = 0.02) -> float:
    """Wait until these executions all ended in SUCCESS; when that was (time.monotonic)."""
    pending = set(ids)
    deadline = time.monotonic() + timeout
    while pending:
        for pk, state in Execution.objects.filter(
            pk__in=pending, state__in=TERMINAL_STATES
        ).values_list("pk", "state"):
            if state != State.SUCCESS:
                raise BenchError(f"Execution {pk} ended {state}")
            pending.discard(pk)
        if not pending:
            break
        if time.monotonic() > deadline:
            raise BenchError(f"{len(pending)} executions not done after {timeout:g} s")
        stack.check_alive()
        time.sleep(poll)
    return time.monotonic()

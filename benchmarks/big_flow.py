"""Saving a flow of 20,000 tasks through the API: created, then edited by one line.

The whole save path, as a client pays it: the body read, the YAML parsed and bounded,
validation, the revision stored and the JSON answer.
"""

from __future__ import annotations

import http.client
import time

from .environment import NAMESPACE, BenchError
from .report import Report, secs
from .stack import Api

BIG_FLOW_TASKS = 20_000


def big_flow_source(tasks: int, message: str = "step") -> str:
    lines = [f"id: big-flow\nnamespace: {NAMESPACE}\ntasks:\n"]
    lines.extend(
        f"  - id: log-{n}\n    type: io.kestra.plugin.core.log.Log\n    message: {message} {n}\n"
        for n in range(tasks)
    )
    return "".join(lines)


def _send(api: Api, method: str, path: str, body: str) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=300)
    headers = {"Authorization": f"Bearer {api.token}", "Content-Type": "application/x-yaml"}
    started = time.monotonic()
    try:
        connection.request(method, path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise BenchError(f"{method} {path}: {response.status} {answer[:300]!r}")
    return time.monotonic() - started


def big_flow_measure(api: Api, report: Report, tasks: int = BIG_FLOW_TASKS) -> None:
    created = _send(api, "POST", "/api/v1/flows", big_flow_source(tasks))
    edited = big_flow_source(tasks).replace("step 1\n", "step one\n", 1)
    saved = _send(api, "PUT", f"/api/v1/flows/{NAMESPACE}/big-flow", edited)
    report.measured(f"Save a flow of {tasks:,} tasks (API: create, edit)", [created, saved], secs)

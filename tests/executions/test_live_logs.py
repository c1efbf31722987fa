"""Live output over the websocket of a real daphne server, fed by a real worker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from executions.lifecycle import execution_kill, execution_start
from executions.live import execution_wake
from executions.models import Execution, LogLine, TaskRun
from tests.conftest import wait_until
from tests.flows_helpers import PROCESS, flow_yaml, save_flow

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def follow(server_url: str, execution_id: str, cookie: str | None, after: int = 0):
    headers = {"Origin": server_url}
    if cookie:
        headers["Cookie"] = cookie
    url = server_url.replace("http", "ws") + f"/ws/executions/{execution_id}/?after={after}"
    return connect(url, additional_headers=headers, open_timeout=10)


def receive(socket, *, timeout: float = 30) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=timeout))


def counting_flow(count: int, pause: float) -> str:
    return flow_yaml(
        f"  - id: count\n    type: shell.Commands\n    taskRunner:\n      type: {PROCESS}\n"
        f"    commands:\n      - 'for i in $(seq 1 {count}); do echo line $i; sleep {pause}; done'\n",
        flow_id="counting",
    )


def test_a_dropped_connection_resumes_with_no_gap_and_no_duplicate(
    server_url, worker, alice
) -> None:
    execution = execution_start(flow=save_flow(counting_flow(40, 0.05)))
    cookie = session_cookie(alice)
    seen: list[tuple[int, str]] = []
    with follow(server_url, execution.pk, cookie) as socket:
        while len(seen) < 10:
            message = receive(socket)
            if message["type"] == "logs":
                seen += [(line["id"], line["message"]) for line in message["lines"]]
    # The connection dropped mid-run; the page reconnects with the last id it has.
    ended = False
    with follow(server_url, execution.pk, cookie, after=seen[-1][0]) as socket:
        while not ended:
            message = receive(socket)
            if message["type"] == "logs":
                seen += [(line["id"], line["message"]) for line in message["lines"]]
            ended = message["type"] == "end"
    stored = list(LogLine.objects.filter(execution=execution).values_list("id", "message"))
    assert seen == stored
    assert [message for _, message in seen] == [f"line {i}" for i in range(1, 41)]


def test_a_page_opened_mid_run_gets_earlier_lines_then_follows(server_url, worker, alice) -> None:
    execution = execution_start(flow=save_flow(counting_flow(6, 0.5)))
    wait_until(
        lambda: LogLine.objects.filter(execution=execution, message="line 2").exists(),
        what="two lines to be printed",
    )
    messages: list[str] = []
    states: list[str] = []
    with follow(server_url, execution.pk, session_cookie(alice)) as socket:
        assert receive(socket) == {"type": "start", "total": 0, "lastId": 0}
        first = receive(socket)
        assert first["type"] == "logs"
        assert [line["message"] for line in first["lines"]][:2] == ["line 1", "line 2"]
        messages += [line["message"] for line in first["lines"]]
        while (message := receive(socket))["type"] != "end":
            if message["type"] == "logs":
                messages += [line["message"] for line in message["lines"]]
            elif message["type"] == "state":
                states.append(message["state"])
    assert messages == [f"line {i}" for i in range(1, 7)]
    assert states[0] == "RUNNING" and states[-1] == "SUCCESS"


def test_the_socket_sends_only_lines_after_the_given_id_and_follows_new_ones(
    server_url, alice
) -> None:
    flow = save_flow(counting_flow(1, 0))
    # Rows with no job behind them: this test writes the lines itself.
    execution = Execution.objects.create(
        flow_revision=flow.current_revision, namespace="dev", flow_id=flow.flow_id
    )
    task_run = TaskRun.objects.create(execution=execution, task_id="count", position=0)

    def write(text: str) -> LogLine:
        return LogLine.objects.create(
            execution=execution,
            task_run=task_run,
            task_id="count",
            stream="stdout",
            timestamp=timezone.now(),
            message=text,
        )

    lines = [write(f"stored {i}") for i in range(5)]
    with follow(server_url, execution.pk, session_cookie(alice), after=lines[2].pk) as socket:
        assert receive(socket) == {"type": "start", "total": 3, "lastId": lines[2].pk}
        first = receive(socket)
        assert [line["message"] for line in first["lines"]] == ["stored 3", "stored 4"]
        write("new one")
        execution_wake(execution.pk)
        message = receive(socket)
        while message["type"] != "logs":
            message = receive(socket)
        assert [line["message"] for line in message["lines"]] == ["new one"]


def test_a_socket_without_a_login_is_refused(server_url) -> None:
    flow = save_flow(counting_flow(1, 0))
    # A row with no job behind it: a worker still writing would race the test's flush.
    execution = Execution.objects.create(
        flow_revision=flow.current_revision, namespace="dev", flow_id=flow.flow_id
    )
    with pytest.raises(InvalidStatus) as refused:
        follow(server_url, execution.pk, None)
    assert refused.value.response.status_code == 403


def test_a_socket_for_an_unknown_execution_is_refused(server_url, alice) -> None:
    with pytest.raises(InvalidStatus) as refused:
        follow(server_url, "nope", session_cookie(alice))
    assert refused.value.response.status_code == 403


def test_a_user_deactivated_while_following_is_disconnected(server_url, worker, alice) -> None:
    execution = execution_start(flow=save_flow(counting_flow(100, 0.1)))
    with follow(server_url, execution.pk, session_cookie(alice)) as socket:
        receive(socket)
        alice.is_active = False
        alice.save()
        with pytest.raises(ConnectionClosed):
            while True:  # lines keep coming until the access check closes the socket
                receive(socket, timeout=10)
    execution_kill(execution_id=execution.pk)
    wait_until(lambda: Execution.objects.get(pk=execution.pk).is_terminal, what="the kill")


def test_the_socket_closes_itself_once_everything_was_sent(server_url, worker, alice) -> None:
    execution = execution_start(flow=save_flow(counting_flow(2, 0)))
    wait_until(lambda: Execution.objects.get(pk=execution.pk).is_terminal, what="the run to end")
    with follow(server_url, execution.pk, session_cookie(alice)) as socket:
        kinds = []
        with pytest.raises(ConnectionClosed):
            while True:
                kinds.append(receive(socket)["type"])
    assert kinds[-1] == "end"

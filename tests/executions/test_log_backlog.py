"""A run with a million lines: its websocket sends the last of them, not all."""

from __future__ import annotations

import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from executions.consumers import BACKLOG
from executions.models import LogLine
from tests.executions.test_live_logs import follow, receive, session_cookie
from tests.executions.test_log_page import MILLION, a_run

pytestmark = pytest.mark.django_db(transaction=True)


def everything_sent(socket: Any) -> list[dict[str, Any]]:
    messages = []
    with pytest.raises(ConnectionClosed):  # an ended run's socket closes once all is sent
        while True:
            messages.append(receive(socket))
    return messages


def test_a_million_line_run_sends_its_last_lines_and_how_many_come_before(
    server_url: str, alice: Any
) -> None:
    execution = a_run(lines=MILLION)
    began = time.perf_counter()
    with follow(server_url, execution.pk, session_cookie(alice)) as socket:
        messages = everything_sent(socket)
    print(f"backlog of a 1M-line run sent in {time.perf_counter() - began:.2f} s")

    start, *logs, end = messages
    lines = [line for message in logs for line in message.get("lines", [])]
    assert start["type"] == "start" and end["type"] == "end"
    assert start["total"] == MILLION - BACKLOG
    assert len(lines) == BACKLOG
    assert [lines[0]["message"], lines[-1]["message"]] == ["line 999000", "line 999999"]


def test_a_reconnection_far_behind_gets_the_last_lines_and_where_they_stand(
    server_url: str, alice: Any
) -> None:
    execution = a_run(lines=20_000)
    seen_until = LogLine.objects.filter(execution=execution, message="line 99").get().pk
    with follow(server_url, execution.pk, session_cookie(alice), after=seen_until) as socket:
        start, *logs, _ = everything_sent(socket)

    lines = [line for message in logs for line in message.get("lines", [])]
    assert start["total"] == 20_000 - BACKLOG
    assert [line["message"] for line in lines] == [f"line {n}" for n in range(19_000, 20_000)]

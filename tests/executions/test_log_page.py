"""The execution page's log view reads a run's lines by position, a screenful at a time."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from benchmarks.log_rows import log_lines_insert
from executions.models import Execution, State, TaskRun
from tests.flows_helpers import PROCESS, flow_yaml, save_flow

pytestmark = pytest.mark.django_db

MILLION = 1_000_000


def a_run(*, lines: int, attempts: int = 1) -> Execution:
    flow = save_flow(
        flow_yaml(
            f"  - id: talk\n    type: shell.Commands\n    taskRunner:\n      type: {PROCESS}\n"
            "    commands: [echo]\n",
            flow_id="talkative",
        )
    )
    execution = Execution.objects.create(
        flow_revision=flow.current_revision,
        namespace="dev",
        flow_id=flow.flow_id,
        state=State.SUCCESS,
    )
    task_run = TaskRun.objects.create(execution=execution, task_id="talk", position=0)
    for attempt in range(1, attempts + 1):
        log_lines_insert(task_run=task_run, count=lines, attempt=attempt)
    return execution


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def read(client: Client, execution: Execution, what: str, **params: Any) -> Any:
    response = client.get(f"/executions/{execution.pk}/logs/{what}", params)
    assert response.status_code == 200, response.content
    return response.json()


def messages(answer: dict[str, Any]) -> list[str]:
    return [line["message"] for line in answer["lines"]]


def test_the_lines_at_a_range_of_positions_come_in_order(alice: Any) -> None:
    execution = a_run(lines=50)
    client = logged_in(alice)

    counted = read(client, execution, "count")
    middle = read(client, execution, "lines", **{"from": 20, "count": 3})
    near_end = read(client, execution, "lines", **{"from": 45, "count": 10, "total": 50})

    assert messages(middle) == ["line 20", "line 21", "line 22"]
    assert messages(near_end) == [f"line {n}" for n in range(45, 50)]
    assert counted["count"] == 50
    assert near_end["lines"][-1]["id"] == counted["lastId"]
    assert middle["lines"][0]["taskId"] == "talk"


def test_positions_count_only_the_lines_of_the_level_task_run_and_attempt_asked(
    alice: Any,
) -> None:
    execution = a_run(lines=100, attempts=2)
    client = logged_in(alice)
    run = str(execution.task_runs.get().pk)

    warnings = read(client, execution, "lines", level="WARN", **{"from": 0, "count": 5})
    second = read(client, execution, "lines", taskRunId=run, attempt=2, **{"from": 0, "count": 1})

    assert read(client, execution, "count", level="WARN")["count"] == 2 * 10
    assert read(client, execution, "count", level="ERROR")["count"] == 2 * 1
    assert messages(warnings) == ["line 9", "line 19", "line 29", "line 39", "line 49"]
    assert [line["attempt"] for line in second["lines"]] == [2]
    assert read(client, execution, "count", taskRunId=run, attempt=2)["count"] == 100


def test_a_search_answers_the_matching_lines_and_where_they_stand(alice: Any) -> None:
    execution = a_run(lines=200)
    client = logged_in(alice)

    found = read(client, execution, "search", q="LINE 15")
    first = found["ids"][0]

    assert len(found["ids"]) == 11  # line 15 and lines 150 to 159
    assert read(client, execution, "position", id=first) == {"position": 15}
    assert read(client, execution, "position", id=first, level="WARN") == {"position": 1}


def test_positions_stay_put_past_the_line_the_page_last_heard_of(alice: Any) -> None:
    execution = a_run(lines=10)
    client = logged_in(alice)
    until = read(client, execution, "count")["lastId"]
    log_lines_insert(task_run=execution.task_runs.get(), count=5)

    assert read(client, execution, "count", until=until)["count"] == 10
    assert read(client, execution, "count")["count"] == 15
    last = read(client, execution, "lines", until=until, total=10, **{"from": 9, "count": 5})
    assert messages(last) == ["line 9"]


def test_someone_who_may_not_see_the_execution_gets_a_404(charlie: Any) -> None:
    execution = a_run(lines=3)
    client = logged_in(charlie)

    for what in ("count", "lines", "search", "position", "download"):
        assert client.get(f"/executions/{execution.pk}/logs/{what}?id=1").status_code == 404


def test_a_parameter_it_cannot_read_is_a_400(alice: Any) -> None:
    execution = a_run(lines=3)
    client = logged_in(alice)

    assert client.get(f"/executions/{execution.pk}/logs/lines?from=x").status_code == 400
    assert client.get(f"/executions/{execution.pk}/logs/count?level=LOUD").status_code == 400


def test_the_download_link_serves_the_view_s_lines_to_a_logged_in_user(alice: Any) -> None:
    execution = a_run(lines=20)
    client = logged_in(alice)

    response: Any = client.get(f"/executions/{execution.pk}/logs/download?minLevel=WARN")
    assert response.streaming  # the API's download, streamed
    text = b"".join(response.streaming_content).decode()

    assert response.status_code == 200
    assert [line.split(" ", 2)[2] for line in text.splitlines()] == ["line 9", "line 19"]


def test_a_range_anywhere_in_a_million_lines_is_read_quickly(alice: Any) -> None:
    execution = a_run(lines=MILLION)
    client = logged_in(alice)
    total = read(client, execution, "count")["count"]
    assert total == MILLION

    timings: dict[Any, float] = {}
    for start in (0, 250_000, 500_000, 987_600, MILLION - 200):
        began = time.perf_counter()
        answer = read(client, execution, "lines", total=total, **{"from": start, "count": 200})
        timings[start] = time.perf_counter() - began
        assert messages(answer)[0] == f"line {start}"
    for what, params in (
        ("count", {}),
        ("count", {"level": "WARN"}),
        ("lines", {"level": "WARN", "from": 50_000, "count": 200, "total": 100_000}),
        ("search", {"q": "line 987654"}),
        ("position", {"id": answer["lines"][0]["id"]}),
    ):
        began = time.perf_counter()
        read(client, execution, what, **params)
        timings[f"{what} {params}"] = time.perf_counter() - began
    print("reads at 1M lines (s):", {k: round(v, 3) for k, v in timings.items()})

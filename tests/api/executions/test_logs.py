"""GET /api/v1/logs/{executionId} returns the lines a run printed."""

from __future__ import annotations

from typing import Any

import pytest

from flows.models import Flow
from tests.api.executions.conftest import NOISY_LINES, get_execution, start, started_and_run


def test_it_returns_the_lines_a_run_printed_in_order_with_their_level(
    api: Any, noisy: Flow
) -> None:
    execution_id = started_and_run(api, noisy)

    response = api.get(f"/api/v1/logs/{execution_id}")

    assert response.status_code == 200
    lines = response.json()
    assert [(ln["taskId"], ln["level"], ln["stream"], ln["message"]) for ln in lines] == NOISY_LINES
    assert {(ln["namespace"], ln["flowId"], ln["executionId"]) for ln in lines} == {
        ("dev", "noisy", execution_id)
    }
    task_runs = {
        run["taskId"]: run["id"] for run in get_execution(api, execution_id)["taskRunList"]
    }
    assert [ln["taskRunId"] for ln in lines] == [task_runs[ln["taskId"]] for ln in lines]


@pytest.mark.parametrize(
    ("min_level", "expected"),
    [
        ("TRACE", ["Starting", "one", "two", "oops", "Command failed with exit code 3"]),
        ("DEBUG", ["Starting", "one", "two", "oops", "Command failed with exit code 3"]),
        ("INFO", ["one", "two", "oops", "Command failed with exit code 3"]),
        ("WARN", ["oops", "Command failed with exit code 3"]),
        ("ERROR", ["Command failed with exit code 3"]),
    ],
)
def test_it_leaves_out_lines_below_min_level(
    api: Any, noisy: Flow, min_level: str, expected: list[str]
) -> None:
    execution_id = started_and_run(api, noisy)

    response = api.get(f"/api/v1/logs/{execution_id}", {"minLevel": min_level})

    assert response.status_code == 200
    assert [line["message"] for line in response.json()] == expected


def test_it_refuses_an_unknown_min_level(api: Any, noisy: Flow) -> None:
    execution_id = started_and_run(api, noisy)

    response = api.get(f"/api/v1/logs/{execution_id}", {"minLevel": "LOUD"})

    assert response.status_code == 400
    assert response.json()["message"] == "minLevel must be one of TRACE, DEBUG, INFO, WARN, ERROR"


def test_an_execution_that_has_not_run_has_no_logs_yet(api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]

    response = api.get(f"/api/v1/logs/{execution_id}")

    assert response.status_code == 200
    assert response.json() == []


def test_it_answers_404_for_the_logs_of_an_unknown_execution(api: Any) -> None:
    response = api.get("/api/v1/logs/nope")

    assert response.status_code == 404
    assert "Execution nope not found" in response.json()["message"]


def test_reading_logs_needs_credentials(client: Any, api: Any, noisy: Flow) -> None:
    execution_id = started_and_run(api, noisy)
    del client.defaults["HTTP_AUTHORIZATION"]

    response = client.get(f"/api/v1/logs/{execution_id}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Flowsite"'
    assert "Starting" not in response.content.decode()

"""GET /api/v1/executions/{executionId} shows an execution and its task runs."""

from __future__ import annotations

from typing import Any

from flows.models import Flow
from tests.api.executions.conftest import HELLO_YAML, get_execution, start, started_and_run


def test_it_shows_an_execution_that_ran_with_its_task_runs(api: Any, hello: Flow) -> None:
    execution_id = started_and_run(api, hello)

    body = get_execution(api, execution_id)

    # Something on stderr ends a script task WARNING, as in Kestra.
    assert body["state"]["current"] == "WARNING"
    assert body["state"]["startDate"] is not None
    assert body["state"]["endDate"] is not None
    assert body["state"]["duration"].startswith("PT")  # ISO-8601, as Kestra writes it
    [task_run] = body["taskRunList"]
    assert task_run["state"]["current"] == "WARNING"
    assert task_run["exitCode"] == 0
    assert task_run["error"] is None
    assert len(task_run["attempts"]) == 1


def test_it_shows_which_task_failed_and_why(api: Any, noisy: Flow) -> None:
    execution_id = started_and_run(api, noisy)

    body = get_execution(api, execution_id)

    assert body["state"]["current"] == "FAILED"
    assert [(run["taskId"], run["state"]["current"]) for run in body["taskRunList"]] == [
        ("announce", "SUCCESS"),
        ("work", "FAILED"),
    ]
    failed = body["taskRunList"][1]
    assert failed["exitCode"] == 3
    assert failed["error"] == "Command failed with exit code 3"


def test_it_shows_the_outputs_a_script_printed(api: Any, alice: Any) -> None:
    flow = Flow.save_source(HELLO_YAML.replace("echo hello", """echo '::{"outputs":{"n":3}}::'"""))

    body = get_execution(api, started_and_run(api, flow))

    assert body["taskRunList"][0]["outputs"] == {"exitCode": 0, "vars": {"n": 3}}


def test_it_answers_404_for_an_unknown_execution(api: Any) -> None:
    response = api.get("/api/v1/executions/nope")

    assert response.status_code == 404
    assert "Execution nope not found" in response.json()["message"]


def test_reading_an_execution_needs_credentials(client: Any, api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]
    del client.defaults["HTTP_AUTHORIZATION"]

    assert client.get(f"/api/v1/executions/{execution_id}").status_code == 401


def test_it_answers_405_to_a_post_on_an_execution(api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]

    response = api.post(f"/api/v1/executions/{execution_id}")

    assert response.status_code == 405
    assert response["Allow"] == "GET"

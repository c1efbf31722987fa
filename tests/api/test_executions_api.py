"""Kestra's execution and log endpoints: /api/v1/executions and /api/v1/logs."""

from __future__ import annotations

from typing import Any

import pytest

from executions.jobs import run_task_run
from executions.models import Execution, LogLine
from flows.models import Flow
from tests.conftest import basic_auth, wait_until
from tests.flows_helpers import PROCESS, flow_yaml

START_HELLO = "/api/v1/executions/dev/hello"

HELLO_YAML = flow_yaml(
    f"""\
    - id: greet
      type: io.kestra.plugin.scripts.shell.Commands
      taskRunner: {{type: {PROCESS}}}
      commands:
        - echo hello
        - sleep 0.2
        - echo oops >&2
    """,
    flow_id="hello",
)

# A log task, then a script that writes to both streams and fails: one line of each level.
NOISY_YAML = flow_yaml(
    f"""\
    - id: announce
      type: io.kestra.plugin.core.log.Log
      message: Starting
      level: DEBUG
    - id: work
      type: io.kestra.plugin.scripts.shell.Commands
      taskRunner: {{type: {PROCESS}}}
      commands:
        - echo one
        - echo two
        - sleep 0.2
        - echo oops >&2
        - sleep 0.2
        - exit 3
    """,
    flow_id="noisy",
)
NOISY_LINES = [
    ("announce", "DEBUG", "system", "Starting"),
    ("work", "INFO", "stdout", "one"),
    ("work", "INFO", "stdout", "two"),
    ("work", "WARN", "stderr", "oops"),
    ("work", "ERROR", "system", "Command failed with exit code 3"),
]

SLEEPY_YAML = flow_yaml(
    f"""\
    - id: nap
      type: io.kestra.plugin.scripts.shell.Commands
      taskRunner: {{type: {PROCESS}}}
      commands:
        - echo started
        - sleep 30
        - echo finished
    """,
    flow_id="sleepy",
)


@pytest.fixture
def hello(alice: Any) -> Flow:
    return Flow.save_source(HELLO_YAML, author=alice)


@pytest.fixture
def noisy(alice: Any) -> Flow:
    return Flow.save_source(NOISY_YAML, author=alice)


def start(api: Any, flow: Flow) -> dict[str, Any]:
    response = api.post(f"/api/v1/executions/{flow.namespace}/{flow.flow_id}")
    assert response.status_code == 200, response.content
    return response.json()


def run_as_worker(execution: dict[str, Any]) -> None:
    """What the worker that picks up the execution's first job does."""
    run_task_run(execution["taskRunList"][0]["id"])


def started_and_run(api: Any, flow: Flow) -> str:
    execution = start(api, flow)
    run_as_worker(execution)
    return execution["id"]


def get_execution(api: Any, execution_id: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/executions/{execution_id}")
    assert response.status_code == 200, response.content
    return response.json()


def kill(api: Any, execution_id: str) -> Any:
    return api.delete(f"/api/v1/executions/{execution_id}/kill")


# --- POST /api/v1/executions/{namespace}/{id} -----------------------------------------


def test_it_starts_an_execution(api: Any, hello: Flow, alice: Any) -> None:
    response = api.post(START_HELLO)

    assert response.status_code == 200
    body = response.json()
    assert len(body["id"]) == 22
    assert (body["namespace"], body["flowId"], body["flowRevision"]) == ("dev", "hello", 1)
    assert body["state"]["current"] == "CREATED"
    assert body["state"]["endDate"] is None
    [task_run] = body["taskRunList"]
    assert task_run["taskId"] == "greet"
    assert task_run["executionId"] == body["id"]
    assert task_run["state"]["current"] == "CREATED"
    assert task_run["attempts"] == []
    assert Execution.objects.get(pk=body["id"]).triggered_by == alice


def test_it_starts_the_latest_revision_of_the_flow(api: Any, hello: Flow) -> None:
    Flow.save_source(HELLO_YAML.replace("echo hello", "echo hello again"))

    body = api.post(START_HELLO).json()

    assert body["flowRevision"] == 2


def test_it_gives_the_execution_the_labels_of_the_flow(api: Any, alice: Any) -> None:
    flow = Flow.save_source(HELLO_YAML.replace("\ntasks:", "labels:\n  team: data\ntasks:"))

    body = start(api, flow)

    assert body["labels"] == [{"key": "team", "value": "data"}]


def test_a_flow_whose_tasks_are_all_disabled_succeeds_at_once(api: Any, alice: Any) -> None:
    flow = Flow.save_source(HELLO_YAML.replace("- id: greet\n", "- id: greet\n  disabled: true\n"))

    body = start(api, flow)

    assert body["state"]["current"] == "SUCCESS"
    assert body["taskRunList"] == []


@pytest.mark.parametrize("path", ["/api/v1/executions/dev/nope", "/api/v1/executions/prod/hello"])
def test_it_answers_404_when_starting_an_unknown_flow(api: Any, hello: Flow, path: str) -> None:
    response = api.post(path)

    assert response.status_code == 404
    assert "not found" in response.json()["message"]
    assert not Execution.objects.exists()


def test_it_answers_404_when_starting_a_deleted_flow(api: Any, hello: Flow) -> None:
    hello.soft_delete()

    assert api.post(START_HELLO).status_code == 404
    assert not Execution.objects.exists()


def test_starting_an_execution_needs_credentials(client: Any, hello: Flow) -> None:
    response = client.post(START_HELLO, HTTP_AUTHORIZATION=basic_auth(password="wrong"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Flowsite"'
    assert not Execution.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_it_answers_405_to_other_methods_on_the_start_path(
    api: Any, hello: Flow, method: str
) -> None:
    response = getattr(api, method)(START_HELLO)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert not Execution.objects.exists()


# --- GET /api/v1/executions/{executionId} ---------------------------------------------


def test_it_shows_an_execution_that_ran_with_its_task_runs(api: Any, hello: Flow) -> None:
    execution_id = started_and_run(api, hello)

    body = get_execution(api, execution_id)

    # Something on stderr ends a script task WARNING, as in Kestra.
    assert body["state"]["current"] == "WARNING"
    assert body["state"]["startDate"] is not None
    assert body["state"]["endDate"] is not None
    assert body["state"]["duration"] >= 0
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


# --- GET /api/v1/logs/{executionId} ---------------------------------------------------


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


# --- DELETE /api/v1/executions/{executionId}/kill -------------------------------------


def test_killing_an_execution_no_worker_picked_up_ends_it_at_once(api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]

    response = kill(api, execution_id)

    assert response.status_code == 202
    body = get_execution(api, execution_id)
    assert body["state"]["current"] == "KILLED"
    assert body["state"]["endDate"] is not None
    assert [run["state"]["current"] for run in body["taskRunList"]] == ["KILLED"]


def test_a_killed_execution_does_not_run_when_a_worker_picks_it_up_later(
    api: Any, hello: Flow
) -> None:
    execution = start(api, hello)
    kill(api, execution["id"])

    run_as_worker(execution)

    assert get_execution(api, execution["id"])["state"]["current"] == "KILLED"
    assert api.get(f"/api/v1/logs/{execution['id']}").json() == []


def test_it_refuses_to_kill_an_execution_that_already_ended(api: Any, hello: Flow) -> None:
    execution_id = started_and_run(api, hello)

    response = kill(api, execution_id)

    assert response.status_code == 409
    assert response.json()["message"] == f"Execution {execution_id} has already ended (WARNING)"
    assert get_execution(api, execution_id)["state"]["current"] == "WARNING"


def test_killing_twice_is_refused_the_second_time(api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]

    assert kill(api, execution_id).status_code == 202
    assert kill(api, execution_id).status_code == 409


def test_it_answers_404_when_killing_an_unknown_execution(api: Any) -> None:
    response = kill(api, "nope")

    assert response.status_code == 404
    assert "Execution nope not found" in response.json()["message"]


def test_killing_needs_credentials(client: Any, api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]
    del client.defaults["HTTP_AUTHORIZATION"]

    response = kill(client, execution_id)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Flowsite"'
    assert Execution.objects.get(pk=execution_id).state == "CREATED"


@pytest.mark.django_db(transaction=True)
def test_killing_a_running_execution_stops_its_script(api: Any, alice: Any, worker: Any) -> None:
    execution_id = start(api, Flow.save_source(SLEEPY_YAML))["id"]
    wait_until(
        lambda: LogLine.objects.filter(execution_id=execution_id, message="started").exists(),
        timeout=60,
        what="the script to start",
    )

    response = kill(api, execution_id)

    assert response.status_code == 202
    wait_until(
        lambda: Execution.objects.get(pk=execution_id).is_terminal,
        timeout=20,  # far less than the script's sleep 30
        what="the execution to end",
    )
    body = get_execution(api, execution_id)
    assert body["state"]["current"] == "KILLED"
    assert body["taskRunList"][0]["state"]["current"] == "KILLED"
    lines = [(ln["level"], ln["message"]) for ln in api.get(f"/api/v1/logs/{execution_id}").json()]
    assert lines == [("INFO", "started"), ("WARN", "Killed")]


def test_the_kill_path_answers_405_naming_delete_for_other_methods(api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]
    response = api.get(f"/api/v1/executions/{execution_id}/kill")
    assert response.status_code == 405 and response["Allow"] == "DELETE"

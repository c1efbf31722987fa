"""POST /api/v1/executions/{namespace}/{id} starts an execution of a flow."""

from __future__ import annotations

from typing import Any

import pytest

from executions.models import Execution
from flows.models import Flow
from tests.api.executions.conftest import HELLO_YAML, START_HELLO, start
from tests.conftest import basic_auth


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

    assert {"key": "team", "value": "data"} in body["labels"]


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

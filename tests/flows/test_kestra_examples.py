"""The example flows, written in Kestra's documented syntax, run unchanged on a real
django-q2 cluster and do what their description says."""

from __future__ import annotations

from pathlib import Path

import pytest

from executions.lifecycle import execution_resume, execution_start
from executions.models import Execution, State
from executions.storage import storage_read
from flows.models import Flow
from namespaces.models import NamespaceVariable, Secret
from tests.conftest import wait_until
from tests.flows_helpers import ended, finished, messages, started

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"


def example(name: str) -> Flow:
    return Flow.save_source((EXAMPLES / f"{name}.yml").read_text())


def run(name: str, **kwargs) -> Execution:
    return finished(execution_start(flow=example(name), **kwargs), timeout=90)


def test_inputs_greeting_greets_with_its_defaults_and_with_given_inputs(worker) -> None:
    default = run("inputs-greeting")
    assert default.state == State.SUCCESS
    assert messages(default) == ["Hello Rick Astley x2 from company.team.inputs-greeting"]
    assert default.outputs == {"greeting": "Hello Rick Astley"}
    given = run("inputs-greeting", inputs={"user": "Ada", "shout": "true", "language": "fr"})
    assert given.outputs == {"greeting": "Bonjour ADA"}


@pytest.mark.docker
def test_python_outputs_passes_a_python_containers_outputs_on(worker, docker_engine) -> None:
    execution = run("python-outputs")
    assert execution.state == State.SUCCESS
    assert messages(execution)[-1] == "2 rows, warm: Paris"


def test_parallel_etl_runs_its_extracts_at_once_then_loads(worker) -> None:
    execution = run("parallel-etl")
    assert execution.state == State.SUCCESS
    assert messages(execution)[-1] == "Loaded 172 rows"
    extracts = execution.task_runs.filter(parent__task_id="extracts")
    assert extracts.count() == 3
    latest_start = max(started(r) for r in extracts)
    assert all(ended(r) > latest_start for r in extracts)  # all three ran together


def test_if_condition_takes_the_branch_its_input_asks_for(worker) -> None:
    assert messages(run("if-condition")) == ["Full refresh"]
    assert messages(run("if-condition", inputs={"full_refresh": False})) == ["Incremental load"]


def test_switch_environment_runs_the_matching_case_or_the_default(worker) -> None:
    assert messages(run("switch-environment", inputs={"environment": "prod"})) == [
        "Deploying to production"
    ]
    assert messages(run("switch-environment")) == ["Deploying to dev"]


def test_foreach_values_runs_its_tasks_for_every_region(worker) -> None:
    execution = run("foreach-values")
    assert execution.state == State.SUCCESS
    found = messages(execution)
    for region in ("eu-west", "us-east", "ap-south"):
        assert f"syncing {region}" in found and f"{region} synced" in found


def test_retries_succeeds_on_the_fifth_attempt_with_a_warning(worker) -> None:
    execution = run("retries")
    failed = execution.task_runs.get(task_id="failed")
    assert execution.state == State.WARNING  # warningOnRetry
    assert failed.attempts.count() == 5
    assert not execution.task_runs.filter(task_id="never_happen").exists()


def test_subflow_parent_uses_the_output_of_its_child(worker) -> None:
    example("subflow-child")
    execution = run("subflow-parent")
    assert execution.state == State.SUCCESS
    assert messages(execution)[-1] == "Child built report-weekly"


def test_errors_and_finally_fails_runs_its_errors_branch_and_finally(worker) -> None:
    execution = run("errors-and-finally")
    assert execution.state == State.FAILED
    found = messages(execution)
    assert f"Execution {execution.pk} failed" in found and found[-1] == "Finally ran"
    assert execution.task_runs.get(task_id="optional_cleanup").state == State.FAILED


def test_pause_approval_waits_for_resume_then_publishes(worker) -> None:
    execution = execution_start(flow=example("pause-approval"))

    def paused() -> bool:
        execution.refresh_from_db()
        return execution.state == State.PAUSED

    wait_until(paused, timeout=30, what="the execution to pause")
    assert "Published" not in messages(execution)
    execution_resume(execution_id=execution.pk)
    assert finished(execution).state == State.SUCCESS
    assert messages(execution)[-1] == "Published"


def test_files_between_tasks_hands_a_csv_from_one_task_to_the_next(worker) -> None:
    execution = run("files-between-tasks")
    assert execution.state == State.SUCCESS
    assert "rows=2" in messages(execution)
    uri = execution.task_runs.get(task_id="export").outputs["outputFiles"]["weather.csv"]
    assert storage_read(uri) == b"city,temp\nParis,21\nOslo,9\n"


def test_secrets_api_call_uses_the_secret_but_never_logs_it(worker) -> None:
    Secret.store(namespace="company", key="API_TOKEN", value="tok-3f9a77c1")
    NamespaceVariable.store(namespace="company.team", key="api_url", value="https://api.test")
    execution = run("secrets-api-call")
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["calling https://api.test with token ******"]


def test_concurrency_limit_queues_the_second_execution(worker) -> None:
    flow = example("concurrency-limit")
    first, second = execution_start(flow=flow), execution_start(flow=flow)
    assert second.state == State.QUEUED
    assert finished(first).state == State.SUCCESS
    assert finished(second).state == State.SUCCESS


def test_webhook_receiver_starts_on_a_post_to_its_key_with_the_body_as_trigger_body(
    worker, client
) -> None:
    example("webhook-receiver")
    response = client.post(
        "/api/v1/executions/webhook/company.team/webhook-receiver/4wjtkzwVGBM9yKnjm3yv8r",
        data={"event": "order.paid", "order_id": 1042},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    execution = finished(Execution.objects.get(pk=response.json()["id"]))
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["Received order.paid for order 1042"]

"""The examples of the HTTP, log, label, purge and Subflow-outputs tasks, written in
Kestra's documented syntax, run unchanged on a real worker and do what their
descriptions say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from executions.lifecycle import execution_start
from executions.models import Execution, LogLine, State
from executions.storage import storage_read
from flows.models import Flow
from tests.executions.http_server import ORDERS_CSV, http_server
from tests.flows_helpers import finished, messages, own_labels, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = Path(__file__).resolve().parents[2] / "flows" / "examples"


def example(name: str) -> Flow:
    return Flow.save_source((EXAMPLES / f"{name}.yml").read_text())


def run(name: str, **kwargs) -> Execution:
    return finished(execution_start(flow=example(name), **kwargs), timeout=90)


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with http_server() as url:
        yield url


def test_http_api_and_download_labels_the_execution_from_an_api_and_a_file(worker, api) -> None:
    execution = run("http-api-and-download", inputs={"api_url": api})
    assert execution.state == State.SUCCESS, messages(execution)
    assert "API state: green" in messages(execution)
    assert "orders=3" in messages(execution)
    orders = execution.task_runs.get(task_id="orders").outputs
    assert storage_read(orders["uri"]) == ORDERS_CSV
    assert own_labels(execution) == {"api_state": "green", "orders_bytes": str(len(ORDERS_CSV))}


def test_execution_housekeeping_purges_only_old_runs_of_its_own_namespace(worker) -> None:
    chatter = "  - id: say\n    type: io.kestra.plugin.core.log.Log\n    message: hello\n"
    old, recent, foreign = (
        finished(execution_start(flow=save_flow(f"id: chat\nnamespace: {ns}\ntasks:\n{chatter}")))
        for ns in ("company.team", "company.team", "company.other")
    )
    month_ago = timezone.now() - timedelta(days=45)
    for aged in (old, foreign):
        Execution.objects.filter(pk=aged.pk).update(created_at=month_ago)
        LogLine.objects.filter(execution=aged).update(timestamp=month_ago)
    execution = run("execution-housekeeping")
    assert execution.state == State.SUCCESS, messages(execution)
    warnings = execution.task_runs.get(task_id="own_warnings").outputs
    stored = [json.loads(line) for line in storage_read(warnings["uri"]).splitlines()]
    assert [row["message"] for row in stored] == ["Housekeeping started"]
    assert not Execution.objects.filter(pk=old.pk).exists()
    assert Execution.objects.filter(pk__in=[recent.pk, foreign.pk]).count() == 2
    assert LogLine.objects.filter(execution=foreign).exists()
    assert "purged 1 log lines and 1 executions" in " ".join(messages(execution)[-1].split())


def test_subflow_legacy_outputs_picks_a_file_of_its_child_and_prints_it(worker) -> None:
    example("files-between-tasks")
    execution = run("subflow-legacy-outputs")
    assert execution.state == State.SUCCESS, messages(execution)
    picked = execution.task_runs.get(task_id="weather").outputs["outputs"]["csv"]
    assert picked.startswith("kestra:///company/team/files-between-tasks/executions/")
    assert messages(execution)[-1] == "city,temp"

"""Kestra's /api/v1/metrics endpoints give a script's metrics in Kestra's shapes, to those
who may see the execution; and the execution page shows them per task run."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from executions.models import Execution
from tests.conftest import basic_auth
from tests.flows_helpers import PROCESS, flow_yaml, run_here, save_flow, started

pytestmark = pytest.mark.django_db


def metric_line(name: str, kind: str, value: float, **tags: str) -> str:
    payload = {"metrics": [{"name": name, "type": kind, "value": value, "tags": tags}]}
    return "echo '::" + json.dumps(payload) + "::'"


def script(task_id: str, *lines: str) -> str:
    commands = "".join(f"      - {json.dumps(line)}\n" for line in lines)
    return (
        f"  - id: {task_id}\n    type: shell.Commands\n    taskRunner: {{type: {PROCESS}}}\n"
        f"    commands:\n{commands}"
    )


@pytest.fixture
def measured(alice: Any) -> Execution:
    source = flow_yaml(
        script(
            "extract",
            metric_line("rows", "counter", 120, table="orders"),
            metric_line("rows", "counter", 5, table="orders"),
            metric_line("took", "timer", 1.5),
        )
        + script("load", metric_line("rows", "counter", 125, table="warehouse")),
        flow_id="measured",
    )
    return run_here(save_flow(source))


def results(response: Any) -> list[tuple[str, str, str, float, dict[str, str]]]:
    assert response.status_code == 200, response.content
    return [
        (m["taskId"], m["name"], m["type"], m["value"], m["tags"])
        for m in response.json()["results"]
    ]


def test_it_lists_an_executions_metrics_in_kestras_shape(api: Client, measured: Execution) -> None:
    response = api.get(f"/api/v1/metrics/{measured.pk}")
    body = response.json()
    assert body["total"] == 3
    assert results(response) == [
        ("extract", "rows", "counter", 125.0, {"table": "orders"}),
        ("extract", "took", "timer", 1500.0, {}),
        ("load", "rows", "counter", 125.0, {"table": "warehouse"}),
    ]
    first = body["results"][0]
    extract = measured.task_runs.get(task_id="extract")
    assert first["namespace"] == "dev"
    assert first["flowId"] == "measured"
    assert first["executionId"] == measured.pk
    assert first["taskRunId"] == extract.pk
    assert first["timestamp"]


def test_it_narrows_to_one_task_run_or_one_task(api: Client, measured: Execution) -> None:
    load = measured.task_runs.get(task_id="load")
    by_run = api.get(f"/api/v1/metrics/{measured.pk}", {"taskRunId": load.pk})
    assert results(by_run) == [("load", "rows", "counter", 125.0, {"table": "warehouse"})]
    by_task = api.get(f"/api/v1/metrics/{measured.pk}", {"taskId": "extract"})
    assert [name for _, name, *_ in results(by_task)] == ["rows", "took"]


def test_it_pages_and_sorts_as_kestra_does(api: Client, measured: Execution) -> None:
    query: dict[str, str | int] = {"size": 1, "page": 2, "sort": "value:desc"}
    page = api.get(f"/api/v1/metrics/{measured.pk}", query)
    assert page.json()["total"] == 3
    assert [value for *_, value, _ in results(page)] == [125.0]  # 1500, then 125 and 125
    bad_queries: list[dict[str, str | int]] = [
        {"size": 0},
        {"page": "x"},
        {"sort": "secret:desc"},
        {"sort": "name:sideways"},
    ]
    for bad in bad_queries:
        refused = api.get(f"/api/v1/metrics/{measured.pk}", bad)
        assert refused.status_code == 400
        assert refused.json()["message"]


def test_it_names_a_flows_metrics_and_the_tasks_that_have_some(
    api: Client, measured: Execution
) -> None:
    assert api.get("/api/v1/metrics/names/dev/measured").json() == ["rows", "took"]
    assert api.get("/api/v1/metrics/names/dev/measured/load").json() == ["rows"]
    assert api.get("/api/v1/metrics/tasks/dev/measured").json() == ["extract", "load"]


def test_an_outsider_gets_404_and_no_caller_gets_401(
    client: Client, charlie: Any, measured: Execution
) -> None:
    assert client.get(f"/api/v1/metrics/{measured.pk}").status_code == 401
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth("charlie")
    assert client.get(f"/api/v1/metrics/{measured.pk}").status_code == 404
    assert client.get("/api/v1/metrics/names/dev/measured").status_code == 404
    assert client.get("/api/v1/metrics/tasks/dev/measured").status_code == 404
    assert client.get("/api/v1/metrics/aggregates/dev/measured/rows").status_code == 404


def test_the_execution_page_shows_each_task_runs_metrics(
    client: Client, alice: Any, measured: Execution
) -> None:
    client.force_login(alice)
    page = client.get(measured.get_absolute_url()).content.decode()
    assert 'data-testid="metrics"' in page
    extract = measured.task_runs.get(task_id="extract")
    section = page.split(f'data-metrics="{extract.pk}"')[1].split("</details>")[0]
    assert '<td class="metric-value">125</td>' in section
    assert '<td class="metric-value">1.5 s</td>' in section
    assert "table=orders" in section


def test_it_aggregates_a_flows_metric_per_bucket_of_the_range(
    api: Client, measured: Execution
) -> None:
    day = started(measured).replace(hour=0, minute=0, second=0, microsecond=0)
    query: dict[str, str] = {
        "startDate": (day - timedelta(days=2)).isoformat(),
        "endDate": (day + timedelta(hours=23, minutes=59)).isoformat(),
    }
    summed = api.get("/api/v1/metrics/aggregates/dev/measured/rows", query).json()
    assert summed["groupBy"] == "day"
    assert [(a["name"], a["value"]) for a in summed["aggregations"]] == [
        (None, 0.0),
        (None, 0.0),
        ("rows", 250.0),  # 125 for each task
    ]
    of_task = api.get("/api/v1/metrics/aggregates/dev/measured/load/rows", query).json()
    assert of_task["aggregations"][-1]["value"] == 125.0
    most = api.get(
        "/api/v1/metrics/aggregates/dev/measured/rows", {**query, "aggregation": "max"}
    ).json()
    assert most["aggregations"][-1]["value"] == 125.0
    recent = api.get("/api/v1/metrics/aggregates/dev/measured/took").json()
    assert recent["groupBy"] == "day"
    assert sum(a["value"] for a in recent["aggregations"]) == 1500.0


@pytest.mark.parametrize(
    "query",
    [
        {"aggregation": "median"},
        {"startDate": "yesterday"},
        {"startDate": "2026-03-02T00:00:00Z", "endDate": "2026-03-01T00:00:00Z"},
    ],
)
def test_a_bad_aggregation_query_is_refused_with_a_reason(
    api: Client, measured: Execution, query: dict[str, str]
) -> None:
    response = api.get("/api/v1/metrics/aggregates/dev/measured/rows", query)
    assert response.status_code == 400
    assert response.json()["message"]

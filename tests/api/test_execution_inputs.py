"""POST /api/v1/executions/{namespace}/{flowId} with inputs, as Kestra's clients send them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from executions.models import Execution
from executions.storage import storage_read
from flows.models import Flow

START = "/api/v1/executions/dev/report"
REPORT_YAML = """\
id: report
namespace: dev
inputs:
  - id: region
    type: SELECT
    values: [eu, us]
  - id: limit
    type: INT
    min: 1
  - id: dry_run
    type: BOOLEAN
    defaults: false
  - id: since
    type: DATETIME
    required: false
  - id: columns
    type: MULTISELECT
    values: [id, amount, date]
    required: false
  - id: options
    type: JSON
    required: false
  - id: orders
    type: FILE
    required: false
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello
"""


@pytest.fixture
def report(alice: Any) -> Flow:
    return Flow.save_source(REPORT_YAML, author=alice)


def test_inputs_sent_as_a_json_object_are_stored_typed(api: Any, report: Flow) -> None:
    body = {"inputs": {"region": "eu", "limit": 5, "since": "2024-01-02T03:04:05+01:00"}}
    response = api.post(START, json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["inputs"] == {
        "region": "eu",
        "limit": 5,
        "dry_run": False,
        "since": "2024-01-02T02:04:05Z",
        "columns": None,
        "options": None,
        "orders": None,
    }
    assert Execution.objects.get(pk=response.json()["id"]).inputs["limit"] == 5


def test_a_bare_json_object_is_taken_as_the_inputs(api: Any, report: Flow) -> None:
    body = {"region": "us", "limit": "3", "columns": ["id", "date"], "options": {"deep": [1]}}
    response = api.post(START, json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    inputs = response.json()["inputs"]
    assert (inputs["limit"], inputs["columns"], inputs["options"]) == (
        3,
        ["id", "date"],
        {"deep": [1]},
    )


def test_multipart_fields_and_a_file_part_start_a_run_whose_file_is_readable(
    api: Any, report: Flow
) -> None:
    orders = SimpleUploadedFile("orders.csv", b"id,amount\n1,9.5\n", content_type="text/csv")
    fields = {"region": "eu", "limit": "10", "dry_run": "true", "columns": ["id", "amount"]}
    response = api.post(START, {**fields, "orders": orders})  # multipart/form-data
    assert response.status_code == 200, response.content
    inputs = response.json()["inputs"]
    assert (inputs["limit"], inputs["dry_run"], inputs["columns"]) == (10, True, ["id", "amount"])
    execution_id = response.json()["id"]
    assert inputs["orders"] == (
        f"kestra:///dev/report/executions/{execution_id}/inputs/orders/orders.csv"
    )
    assert storage_read(inputs["orders"]) == b"id,amount\n1,9.5\n"


def test_invalid_inputs_answer_422_naming_each_and_start_nothing(api: Any, report: Flow) -> None:
    response = api.post(START, {"region": "asia", "limit": "0", "colour": "red"})
    assert response.status_code == 422
    assert response.json() == {
        "message": "Invalid inputs",
        "errors": {
            "": "Unknown input: colour",
            "region": "Input 'region' must be one of 'eu', 'us', got 'asia'",
            "limit": "Input 'limit' must be at least 1, got 0",
        },
    }
    assert not Execution.objects.exists()


def test_a_missing_required_input_is_named(api: Any, report: Flow) -> None:
    response = api.post(START, json.dumps({"region": "eu"}), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"] == {"limit": "Input 'limit' is required"}


def test_a_body_that_is_not_a_json_object_is_a_bad_request(api: Any, report: Flow) -> None:
    response = api.post(START, "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert "JSON object of inputs" in response.json()["message"]
    response = api.post(START, "{oops", content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]


def test_a_flow_without_inputs_still_starts_with_an_empty_body(api: Any, alice: Any) -> None:
    Flow.save_source(
        "id: plain\nnamespace: dev\ntasks:\n  - id: a\n    type: Log\n    message: m\n",
        author=alice,
    )
    response = api.post("/api/v1/executions/dev/plain")
    assert response.status_code == 200
    assert response.json()["inputs"] == {}

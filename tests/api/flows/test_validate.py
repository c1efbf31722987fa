"""POST /api/v1/flows/validate checks a flow and saves nothing."""

from __future__ import annotations

from typing import Any

from flows.models import Flow
from tests.api.flows.conftest import HELLO_YAML


def test_validate_reports_errors_with_line_and_column_and_saves_nothing(api: Any) -> None:
    broken = "id: x\nnamespace: dev\ntasks:\n  - id: a\n    type: Nope\n"
    response = api.post("/api/v1/flows/validate", data=broken, content_type="application/x-yaml")
    assert response.status_code == 200
    [result] = response.json()
    assert result["errors"] == [
        {"message": "Unknown task type 'Nope'", "line": 5, "column": 11, "path": "tasks[0].type"}
    ]
    assert not Flow.objects.exists()


def test_validate_accepts_a_valid_flow(api: Any) -> None:
    response = api.post(
        "/api/v1/flows/validate", data=HELLO_YAML, content_type="application/x-yaml"
    )
    [result] = response.json()
    assert (result["flow"], result["namespace"], result["errors"]) == ("hello", "dev", [])
    assert not Flow.objects.exists()

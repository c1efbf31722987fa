from __future__ import annotations

import pytest
from django.test import Client

from flows.models import Flow

pytestmark = pytest.mark.django_db


def test_checking_returns_errors_with_line_and_column_and_saves_nothing(
    alice, client: Client
) -> None:
    client.force_login(alice)
    source = "id: x\nnamespace: dev\ntasks:\n  - id: a\n    type: Log\n    message: m\n  - id: b\n    type: Nope\n"
    body = client.post("/flows/check/", {"source": source}).json()
    assert body["errors"] == [
        {"message": "Unknown task type 'Nope'", "line": 8, "column": 11, "path": "tasks[1].type"}
    ]
    assert body["tasks"] == [
        {"id": "a", "type": "Log", "line": 4, "column": 5},
        {"id": "b", "type": "Nope", "line": 7, "column": 5},
    ]
    assert not Flow.objects.exists()


def test_unreadable_yaml_has_its_error_and_no_outline(alice, client: Client) -> None:
    client.force_login(alice)
    body = client.post("/flows/check/", {"source": "id: x\n  bad: [\n"}).json()
    assert body["tasks"] == [] and body["errors"][0]["message"].startswith("Invalid YAML")

"""GET /api/v1/flows/{namespace}/{id} returns a flow."""

from __future__ import annotations

from typing import Any

import pytest

from flows.models import Flow
from tests.api.flows.conftest import HELLO, HELLO_YAML


def test_it_returns_a_flow(api: Any, hello: Flow) -> None:
    response = api.get(HELLO)

    assert response.status_code == 200
    body = response.json()
    assert (body["namespace"], body["id"], body["revision"]) == ("dev", "hello", 1)
    assert body["source"] == HELLO_YAML


@pytest.mark.parametrize("path", ["/api/v1/flows/dev/nope", "/api/v1/flows/prod/hello"])
def test_it_answers_404_for_a_flow_that_does_not_exist(api: Any, hello: Flow, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    assert "not found" in response.json()["message"]


def test_reading_a_flow_needs_credentials(client: Any, hello: Flow) -> None:
    response = client.get(HELLO)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Flowsite"'

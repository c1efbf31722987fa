"""The OpenAPI document at Kestra's path (/swagger/kestra.yml) describes every path
Flowsite serves under /api/v1, with and without the tenant; the REST API page shows it
to a signed-in person."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from django.test import Client

from flowsite.api_paths import api_routes

pytestmark = pytest.mark.django_db

SPLIT = {"executions/{first}/{second}"}


@pytest.fixture
def document(client: Client) -> dict[str, Any]:
    response = client.get("/swagger/kestra.yml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    return yaml.safe_load(response.content)


def test_the_document_parses_as_openapi_3(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.0")
    assert document["components"]["schemas"]["Error"]["required"] == ["message"]
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_every_served_api_path_is_described_with_and_without_the_tenant(
    document: dict[str, Any],
) -> None:
    served = [route for route, _ in api_routes() if route not in SPLIT]
    assert "executions/{execution_id}/actions/kill" in served

    for route in served:
        assert f"/api/v1/{route}" in document["paths"], route
        assert f"/api/v1/{{tenant}}/{route}" in document["paths"], route
    assert "post" in document["paths"]["/api/v1/{tenant}/executions/{namespace}/{id}"]
    assert "delete" in document["paths"]["/api/v1/executions/{executionId}/kill"]


def test_each_path_parameter_is_declared(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for operation in operations.values():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path)), path


def test_the_methods_are_those_the_endpoints_allow(document: dict[str, Any]) -> None:
    assert set(document["paths"]["/api/v1/flows/{namespace}/{flow_id}"]) == {"get", "put", "delete"}
    assert set(document["paths"]["/api/v1/{tenant}/executions/search"]) == {"get"}
    follow = document["paths"]["/api/v1/executions/{execution_id}/follow"]["get"]
    assert "text/event-stream" in follow["responses"]["2XX"]["content"]
    search = document["paths"]["/api/v1/executions/search"]["get"]
    assert "filters" in {p["name"] for p in search["parameters"]}


def test_the_rest_api_page_shows_the_document_to_a_signed_in_person(
    client: Client, alice: Any
) -> None:
    assert client.get("/api-docs/").status_code == 302  # to the login page

    client.force_login(alice)
    page = client.get("/api-docs/")
    nav = client.get("/tokens/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "GET /api/v1/executions/search" in text
    assert "DELETE /api/v1/executions/{execution_id}/actions/kill" in text
    assert "filters[field][OPERATION]" in text
    assert 'href="/swagger/kestra.yml"' in text
    assert 'href="/api-docs/"' in nav.content.decode()

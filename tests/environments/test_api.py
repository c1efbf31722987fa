"""The Python environments through the REST API, for scripts: listed, read one by one and
removed, by superusers only, with and without Kestra 1.x's tenant in the path."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.test import Client

from environments.models import PythonEnvironment
from tests.conftest import basic_auth
from tests.environments.rows import MB, environment_row

pytestmark = pytest.mark.django_db

State = PythonEnvironment.State


@pytest.fixture
def root_api(client: Client, admin_user: Any) -> Client:
    """The test client, calling as the superuser through HTTP Basic auth."""
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth("admin", "password")
    return client


def test_the_list_holds_the_live_environments_the_most_recently_used_first(
    root_api: Client,
) -> None:
    environment_row("envold", "rich", last_used_at=None)
    environment_row("envpandas", "pandas>=2", packages=["pandas==2.2.3", "numpy==2.1.3"])
    environment_row("envgone", "flask", state=State.RETIRED, request_key="old")

    response = root_api.get("/api/v1/environments")

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert [e["key"] for e in body["results"]] == ["envpandas", "envold"]
    pandas = body["results"][0]
    assert pandas["requested"] == ["pandas>=2"]
    assert pandas["packages"] == ["pandas==2.2.3", "numpy==2.1.3"]
    assert pandas["sizeBytes"] == 40 * MB and pandas["runsServed"] == 3
    assert pandas["runner"] == "docker" and pandas["placeLabel"] == "unix:///var/run/docker.sock"
    assert pandas["pythonVersion"] == "3.11.9" and pandas["state"] == "READY"
    assert pandas["lastUsedAt"].endswith("Z") and body["results"][1]["lastUsedAt"] is None


def test_the_list_shows_the_states_asked_for_and_refuses_others(root_api: Client) -> None:
    environment_row("envlive", "requests")
    environment_row("envgone", "flask", state=State.RETIRED, request_key="old")
    environment_row("envbroken", "nosuchpkg", state=State.FAILED, request_key="bad")

    asked = root_api.get("/api/v1/environments?state=RETIRED&state=FAILED").json()
    refused = root_api.get("/api/v1/environments?state=GONE")

    assert sorted(e["key"] for e in asked["results"]) == ["envbroken", "envgone"]
    assert refused.status_code == 400 and "GONE" in refused.json()["message"]


def test_the_list_comes_a_page_at_a_time(root_api: Client) -> None:
    for number in range(3):
        environment_row(f"env{number}", f"package{number}")

    body = root_api.get("/api/v1/environments?page=2&size=2").json()

    assert body["total"] == 3 and len(body["results"]) == 1


def test_one_environment_is_read_by_its_key(root_api: Client) -> None:
    environment_row("envpandas", "pandas>=2")

    found = root_api.get("/api/v1/environments/envpandas")
    unknown = root_api.get("/api/v1/environments/nosuchkey")

    assert found.status_code == 200 and found.json()["key"] == "envpandas"
    assert found.json()["image"] == "python:3.11-slim" and found.json()["installer"] == "UV"
    assert unknown.status_code == 404 and "nosuchkey" in unknown.json()["message"]


def test_delete_retires_the_environment_and_asking_again_changes_nothing(
    root_api: Client,
) -> None:
    environment = environment_row("envpandas", "pandas>=2")

    first = root_api.delete("/api/v1/environments/envpandas")
    again = root_api.delete("/api/v1/environments/envpandas")

    assert first.status_code == 204 and again.status_code == 204
    environment.refresh_from_db()
    assert environment.state == State.RETIRED
    assert root_api.get("/api/v1/environments").json()["total"] == 0
    assert root_api.delete("/api/v1/environments/nosuchkey").status_code == 404


def test_the_tenant_path_serves_the_same_environments(root_api: Client) -> None:
    environment_row("envpandas", "pandas>=2")

    listed = root_api.get("/api/v1/main/environments")
    read = root_api.get("/api/v1/main/environments/envpandas")
    removed = root_api.delete("/api/v1/main/environments/envpandas")

    assert [e["key"] for e in listed.json()["results"]] == ["envpandas"]
    assert read.json()["key"] == "envpandas"
    assert removed.status_code == 204
    assert PythonEnvironment.objects.get(key="envpandas").state == State.RETIRED
    assert root_api.get("/api/v1/acme/environments").status_code == 404


def test_anyone_but_a_superuser_is_refused_in_json(client: Client, alice: Any) -> None:
    environment_row("envpandas", "pandas>=2")

    anonymous = client.get("/api/v1/environments")
    as_alice = {"Authorization": basic_auth()}  # Admin of namespaces, not a superuser
    listed = client.get("/api/v1/environments", headers=as_alice)
    deleted = client.delete("/api/v1/environments/envpandas", headers=as_alice)

    assert anonymous.status_code == 401 and "Authentication required" in anonymous.json()["message"]
    assert listed.status_code == 404 and "superusers only" in listed.json()["message"]
    assert deleted.status_code == 404
    assert PythonEnvironment.objects.get(key="envpandas").state == State.READY


def test_the_openapi_document_describes_the_environments_endpoints(client: Client) -> None:
    paths = yaml.safe_load(client.get("/swagger/kestra.yml").content)["paths"]

    assert set(paths["/api/v1/environments"]) == {"get"}
    assert set(paths["/api/v1/{tenant}/environments/{key}"]) == {"get", "delete"}
    listing = paths["/api/v1/environments"]["get"]
    assert listing["summary"].startswith("The Python environments")
    assert {"state", "page", "size"} <= {p["name"] for p in listing["parameters"]}

"""Superusers see, on one page, the Python environments each engine or host keeps, how
much room they take beside the cap, and remove one with a button."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import AuditEntry
from environments.models import PythonEnvironment
from tests.environments.rows import MB, environment_row

pytestmark = pytest.mark.django_db

State = PythonEnvironment.State


def test_the_page_lists_the_live_environments_with_what_they_hold(admin_client: Client) -> None:
    environment_row("envpandas", "pandas>=2", packages=["pandas==2.2.3", "numpy==2.1.3"])
    environment_row("envbuilding", "httpx", state=State.BUILDING, size_bytes=0)
    environment_row("envgone", "flask", state=State.RETIRED, request_key="old")

    page = admin_client.get("/environments/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "envpandas" in text and "envbuilding" in text
    assert "envgone" not in text
    assert "pandas&gt;=2" in text and "2 packages" in text and "numpy==2.1.3" in text
    assert "python:3.11-slim" in text and "3.11.9" in text
    assert "unix:///var/run/docker.sock" in text
    assert "40.0\xa0MB" in text
    assert "1\xa0minute ago" in text


def test_each_engine_or_host_shows_its_total_beside_the_cap(
    admin_client: Client, settings: Any
) -> None:
    settings.FLOWSITE_PYTHON_ENV_CACHE_BYTES = 100 * MB
    environment_row("enva", "requests", size_bytes=70 * MB)
    environment_row("envb", "rich", size_bytes=50 * MB)
    environment_row("envhost", "rich", runner="process", place="worker-7", place_label="worker-7")

    text = admin_client.get("/environments/").content.decode()

    assert "120.0\xa0MB" in text and "over the cap" in text  # the engine: 70 + 50
    assert "100.0\xa0MB" in text
    assert "worker-7" in text


def test_no_cap_is_said_as_such(admin_client: Client, settings: Any) -> None:
    settings.FLOWSITE_PYTHON_ENV_CACHE_BYTES = 0
    environment_row("enva", "requests")

    text = admin_client.get("/environments/").content.decode()

    assert "No cap" in text and "over the cap" not in text


def test_the_filter_shows_the_retired_and_the_failed(admin_client: Client) -> None:
    environment_row("envlive", "requests")
    environment_row("envgone", "flask", state=State.RETIRED, request_key="old")
    environment_row("envbroken", "nosuchpkg", state=State.FAILED, error="No matching distribution")

    retired = admin_client.get("/environments/?state=RETIRED").content.decode()
    failed = admin_client.get("/environments/?state=FAILED").content.decode()
    every = admin_client.get("/environments/?state=all").content.decode()

    assert "envgone" in retired and "envlive" not in retired
    assert "envbroken" in failed and "No matching distribution" in failed
    assert all(key in every for key in ("envlive", "envgone", "envbroken"))


def test_remove_retires_the_environment_and_says_which(admin_client: Client) -> None:
    environment = environment_row("envpandas", "pandas>=2")

    response = admin_client.post("/environments/envpandas/remove/", follow=True)

    environment.refresh_from_db()
    assert environment.state == State.RETIRED
    text = response.content.decode()
    assert "Removed the environment envpandas (pandas&gt;=2)" in text
    assert 'id="environment-envpandas"' not in text  # gone from the live list
    entry = AuditEntry.objects.get(object_type="environment")
    assert (entry.action, entry.object_id, entry.actor_name) == ("removed", "envpandas", "admin")


def test_remove_from_htmx_answers_the_list_without_the_environment(admin_client: Client) -> None:
    environment_row("envpandas", "pandas>=2")
    environment_row("envrich", "rich")

    response = admin_client.post("/environments/envpandas/remove/", headers={"HX-Request": "true"})

    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text
    assert "Removed the environment envpandas" in text
    assert 'id="environment-envpandas"' not in text and 'id="environment-envrich"' in text


def test_removing_an_environment_already_retired_says_so(admin_client: Client) -> None:
    environment_row("envgone", "flask", state=State.RETIRED)

    response = admin_client.post("/environments/envgone/remove/", follow=True)

    assert response.status_code == 200
    assert "The environment envgone (flask) was already removed" in response.content.decode()
    assert not AuditEntry.objects.filter(object_type="environment").exists()


def test_removing_an_unknown_environment_is_not_found(admin_client: Client) -> None:
    assert admin_client.post("/environments/nosuchkey/remove/").status_code == 404


def test_anyone_but_a_superuser_is_shown_no_environment(client: Client, alice: Any) -> None:
    environment = environment_row("envpandas", "pandas>=2")

    anonymous = client.get("/environments/")
    client.force_login(alice)  # Admin of namespaces, yet not a superuser

    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert client.get("/environments/").status_code == 404
    assert client.post("/environments/envpandas/remove/").status_code == 404
    environment.refresh_from_db()
    assert environment.state == State.READY


def test_the_header_links_to_environments_for_superusers_only(
    admin_client: Client, client: Client, alice: Any
) -> None:
    client.force_login(alice)

    assert 'href="/environments/"' in admin_client.get("/namespaces/").content.decode()
    assert 'href="/environments/"' not in client.get("/namespaces/").content.decode()

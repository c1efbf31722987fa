"""Enabling and disabling a trigger from the flow page and the REST API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.triggers.helpers import T0, at, executions_of, save, schedule_flow
from triggers.clock import clock_tick
from triggers.models import TriggerState

pytestmark = pytest.mark.django_db

TOGGLE_URL = "/flows/dev/scheduled/triggers/every/toggle/"


def state() -> TriggerState:
    return TriggerState.objects.get(flow_id="scheduled", trigger_id="every")


def test_the_toggle_on_the_flow_page_stops_and_restarts_a_schedule(
    client: Client, alice: Any
) -> None:
    flow = save(schedule_flow("*/15 * * * *"))
    client.force_login(alice)
    clock_tick(T0)

    response = client.post(TOGGLE_URL, {"disabled": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'aria-checked="false"' in response.content.decode()
    clock_tick(at(10, 15, 1))
    assert executions_of(flow) == [] and state().disabled

    client.post(TOGGLE_URL, {"disabled": "0"})
    clock_tick(at(10, 20))
    clock_tick(at(10, 30, 1))
    assert len(executions_of(flow)) == 1


def test_only_editors_may_toggle(client: Client, charlie: Any, bob: Any) -> None:
    save(schedule_flow("*/15 * * * *"))
    for outsider in (charlie, bob):  # bob edits company.data, not dev
        client.force_login(outsider)
        assert client.post(TOGGLE_URL, {"disabled": "1"}).status_code == 404
    assert not state().disabled


def test_a_viewer_sees_the_state_but_no_toggle(client: Client, alice: Any) -> None:
    from accounts.models import Role, RoleBinding
    from tests.personas import make_charlie

    charlie = make_charlie()
    RoleBinding.objects.create(user=charlie, namespace="dev", role=Role.VIEWER)
    save(schedule_flow("*/15 * * * *"))
    client.force_login(charlie)
    assert client.post(TOGGLE_URL, {"disabled": "1"}).status_code == 403
    section = client.get("/flows/dev/scheduled/triggers/").content.decode()
    assert 'data-trigger="every"' in section and TOGGLE_URL not in section


def test_the_api_disables_a_trigger_and_lists_it(api: Client) -> None:
    save(schedule_flow("*/15 * * * *"))
    body = {"namespace": "dev", "flowId": "scheduled", "triggerId": "every", "disabled": True}
    response = api.put("/api/v1/triggers", json.dumps(body), content_type="application/json")
    assert response.status_code == 200 and response.json()["disabled"] is True

    found = api.get("/api/v1/triggers/search?namespace=dev").json()
    assert found["total"] == 1
    [row] = found["results"]
    assert (row["flowId"], row["triggerId"], row["disabled"]) == ("scheduled", "every", True)
    assert api.get("/api/v1/triggers/dev/scheduled").json()["results"][0]["disabled"] is True


def test_the_search_lists_only_what_the_user_may_see(client: Client, bob: Any) -> None:
    from tests.conftest import basic_auth

    save(schedule_flow("@daily"))
    save(schedule_flow("@daily", namespace="company.data", flow_id="etl"))
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth("bob")
    found = client.get("/api/v1/triggers/search").json()
    assert [r["namespace"] for r in found["results"]] == ["company.data"]


def test_disabling_enabling_and_backfilling_are_audited(
    client: Client, api: Client, alice: Any
) -> None:
    from accounts.models import AuditEntry

    save(schedule_flow("*/15 * * * *"))
    client.force_login(alice)
    client.post(TOGGLE_URL, {"disabled": "1"})
    client.post(
        "/flows/dev/scheduled/triggers/every/backfill/",
        {"start": "2024-03-01T00:00", "end": "2024-03-01T01:00"},
    )
    body = {"namespace": "dev", "flowId": "scheduled", "triggerId": "every", "disabled": False}
    api.put("/api/v1/triggers", json.dumps(body), content_type="application/json")
    entries = AuditEntry.objects.filter(object_type="trigger").order_by("id")
    assert [(e.action, e.object_id, e.namespace) for e in entries] == [
        ("disabled", "scheduled.every", "dev"),
        ("backfilled", "scheduled.every", "dev"),
        ("enabled", "scheduled.every", "dev"),
    ]
    assert entries[1].summary == "2024-03-01 00:00 to 2024-03-01 01:00"

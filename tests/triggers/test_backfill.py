"""Backfills from the flow page and the REST API: one execution per slot of a range."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.triggers.helpers import executions_of, save, schedule_flow, slot_dates
from triggers.clock import clock_tick
from triggers.models import Backfill, TriggerState

pytestmark = pytest.mark.django_db

HOURLY = "0 * * * *"
BACKFILL_URL = "/flows/dev/scheduled/triggers/every/backfill/"
A_DAY = {"start": "2024-03-01T00:00", "end": "2024-03-01T05:00", "labels": "reason=replay"}


def test_a_backfill_from_the_flow_page_runs_one_execution_per_slot(
    client: Client, alice: Any
) -> None:
    flow = save(schedule_flow(HOURLY))
    client.force_login(alice)

    response = client.post(BACKFILL_URL, A_DAY)
    assert response.status_code == 302
    assert executions_of(flow) == []  # the clock starts them
    clock_tick(timezone.now())

    assert slot_dates(flow) == [f"2024-03-01T0{h}:00:00+00:00" for h in range(6)]
    assert all(e.labels.get("reason") == "replay" for e in executions_of(flow))
    backfill = Backfill.objects.get()
    assert (backfill.processed, backfill.total, backfill.is_done) == (6, 6, True)
    section = client.get("/flows/dev/scheduled/triggers/").content.decode()
    assert "6 of 6" in section


def test_the_backfill_dates_are_read_in_the_trigger_time_zone(client: Client, alice: Any) -> None:
    flow = save(schedule_flow("0 9 * * *", extra="timezone: Europe/Paris"))
    client.force_login(alice)
    client.post(BACKFILL_URL, {"start": "2024-01-01T00:00", "end": "2024-01-03T09:00"})
    clock_tick(timezone.now())
    assert slot_dates(flow) == [f"2024-01-0{d}T09:00:00+01:00" for d in (1, 2, 3)]


def test_a_backfill_runs_in_batches_and_shows_its_progress(client: Client, alice: Any) -> None:
    flow = save(schedule_flow("* * * * *"))
    client.force_login(alice)
    client.post(BACKFILL_URL, {"start": "2024-03-01T00:00", "end": "2024-03-01T02:29"})
    clock_tick(timezone.now())
    assert len(executions_of(flow)) == 100
    section = client.get("/flows/dev/scheduled/triggers/").content.decode()
    assert "100 of 150" in section and 'hx-trigger="every 2s"' in section
    clock_tick(timezone.now())
    assert len(executions_of(flow)) == 150


def test_an_outsider_cannot_backfill_nor_learn_that_the_flow_exists(
    client: Client, charlie: Any
) -> None:
    save(schedule_flow(HOURLY))
    client.force_login(charlie)
    assert client.post(BACKFILL_URL, A_DAY).status_code == 404
    assert not Backfill.objects.exists()


def test_an_editor_of_another_namespace_gets_404_too(client: Client, bob: Any) -> None:
    save(schedule_flow(HOURLY))
    client.force_login(bob)
    assert client.post(BACKFILL_URL, A_DAY).status_code == 404


def test_a_backfill_ending_before_it_starts_is_refused_with_the_reason(
    client: Client, alice: Any
) -> None:
    save(schedule_flow(HOURLY))
    client.force_login(alice)
    response = client.post(
        BACKFILL_URL,
        {"start": "2024-03-02T00:00", "end": "2024-03-01T00:00"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "must not be before its start" in response.content.decode()
    assert not Backfill.objects.exists()


def test_a_backfill_into_the_future_is_refused(client: Client, alice: Any) -> None:
    save(schedule_flow(HOURLY))
    client.force_login(alice)
    response = client.post(
        BACKFILL_URL,
        {"start": "2024-03-01T00:00", "end": "2999-01-01T00:00"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422 and "in the future" in response.content.decode()


def test_the_flow_page_lists_the_triggers_with_their_backfill_form(
    client: Client, alice: Any, charlie: Any
) -> None:
    save(schedule_flow(HOURLY))
    client.force_login(alice)
    page = client.get("/flows/dev/scheduled/").content.decode()
    assert 'data-trigger="every"' in page and "<code>0 * * * *</code>" in page
    assert BACKFILL_URL in page and "/triggers/every/toggle/" in page


def test_the_api_backfills_with_kestra_trigger_body(api: Client) -> None:
    flow = save(schedule_flow(HOURLY))
    body = {
        "namespace": "dev",
        "flowId": "scheduled",
        "triggerId": "every",
        "backfill": {
            "start": "2024-03-01T00:00:00Z",
            "end": "2024-03-01T02:00:00Z",
            "labels": [{"key": "origin", "value": "api"}],
        },
    }
    response = api.put("/api/v1/triggers", json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["backfill"]["start"] == "2024-03-01T00:00:00+00:00"
    clock_tick(datetime.now(UTC))
    assert len(executions_of(flow)) == 3
    assert {e.labels["origin"] for e in executions_of(flow)} == {"api"}


def test_only_a_schedule_can_be_backfilled(api: Client) -> None:
    save(
        schedule_flow(HOURLY).replace(
            "triggers:", "triggers:\n  - id: hook\n    type: Webhook\n    key: k"
        )
    )
    body: dict[str, Any] = {"namespace": "dev", "flowId": "scheduled", "triggerId": "hook"}
    body["backfill"] = {"start": "2024-03-01T00:00:00Z"}
    response = api.put("/api/v1/triggers", json.dumps(body), content_type="application/json")
    assert response.status_code == 422 and "Only a Schedule" in response.json()["message"]
    assert TriggerState.objects.filter(trigger_id="hook").exists()

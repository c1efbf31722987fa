"""Webhook triggers: the key in the URL is the secret; the request becomes trigger.*."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from executions.models import Execution
from flows.models import Flow
from tests.triggers.helpers import executions_of, save, trigger_of, triggered_flow
from triggers.models import TriggerState

pytestmark = pytest.mark.django_db

KEY = "4wjtkzwVGBM9yKnjm3yv8r"
URL = f"/api/v1/executions/webhook/dev/hooked/{KEY}"


@pytest.fixture
def hooked() -> Flow:
    return save(
        triggered_flow(
            f"""
            - id: webhook
              type: io.kestra.plugin.core.trigger.Webhook
              key: {KEY}
            """,
            flow_id="hooked",
        )
    )


def test_a_post_with_the_key_starts_the_flow_with_body_headers_and_query(
    client: Client, hooked: Flow
) -> None:
    response = client.post(
        URL + "?source=github&tag=a&tag=b",
        json.dumps({"hello": "world", "n": 1}),
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="push",
    )
    assert response.status_code == 200
    execution = Execution.objects.get(pk=response.json()["id"])
    assert execution.flow_id == "hooked"
    assert trigger_of(execution)["id"] == "webhook"
    assert trigger_of(execution)["type"] == "io.kestra.plugin.core.trigger.Webhook"
    variables = trigger_of(execution)["variables"]
    assert variables["body"] == {"hello": "world", "n": 1}
    assert variables["headers"]["x-github-event"] == ["push"]
    assert variables["parameters"] == {"source": ["github"], "tag": ["a", "b"]}
    assert response.json()["trigger"]["variables"]["body"] == {"hello": "world", "n": 1}


def test_a_body_that_is_not_json_arrives_as_text(client: Client, hooked: Flow) -> None:
    client.put(URL, "plain words", content_type="text/plain")
    [execution] = executions_of(hooked)
    assert trigger_of(execution)["variables"]["body"] == "plain words"


def test_a_get_works_too_and_needs_no_login(client: Client, hooked: Flow) -> None:
    assert client.get(URL + "?x=1").status_code == 200
    [execution] = executions_of(hooked)
    assert trigger_of(execution)["variables"]["body"] is None


def test_a_wrong_key_or_flow_gets_the_same_404_and_starts_nothing(
    client: Client, hooked: Flow
) -> None:
    answers = [
        client.post(f"/api/v1/executions/webhook/dev/hooked/{KEY}x"),
        client.post(f"/api/v1/executions/webhook/dev/nothing/{KEY}"),
        client.post(f"/api/v1/executions/webhook/nowhere/hooked/{KEY}"),
    ]
    assert {(r.status_code, r.content) for r in answers} == {(404, b'{"message": "Not found"}')}
    assert executions_of(hooked) == []


def test_a_disabled_webhook_answers_404(client: Client, hooked: Flow) -> None:
    TriggerState.objects.get(flow_id="hooked").set_disabled(True)
    assert client.post(URL).status_code == 404
    assert executions_of(hooked) == []


def test_other_methods_are_refused(client: Client, hooked: Flow) -> None:
    assert client.delete(URL).status_code == 405

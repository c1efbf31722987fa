"""Labels of an execution changed on its page and through Kestra's API: who may,
what is refused, and what stays (the system labels)."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from django.test import Client

from accounts.models import AuditEntry, Role, RoleBinding
from executions.models import Execution, State
from tests.conftest import basic_auth
from tests.executions.helpers import (
    COMPANY_FLOW,
    execution_page,
    make_execution,
)

pytestmark = pytest.mark.django_db


# Labels


def _labels_post(client: Client, execution: Execution, pairs: list[tuple[str, str]]) -> Any:
    data = {"key": [k for k, _ in pairs], "value": [v for _, v in pairs]}
    return client.post(f"/executions/{execution.pk}/labels/", data, HTTP_HX_REQUEST="true")


def test_an_editor_adds_changes_and_removes_labels_and_system_ones_stay(
    client: Client, bob: Any
) -> None:
    client.force_login(bob)  # Editor of company.data
    execution = make_execution(
        COMPANY_FLOW, labels={"team": "data", "old": "x", "system.correlationId": "abc"}
    )

    response = _labels_post(client, execution, [("team", "web"), ("env", "prod"), ("", "")])

    assert response.status_code == 200
    execution.refresh_from_db()
    assert execution.labels == {"team": "web", "env": "prod", "system.correlationId": "abc"}
    html = response.content.decode()
    assert ">team: web</a>" in html and ">old: x</a>" not in html
    entry = AuditEntry.objects.get(action="labelled", object_id=execution.pk)
    assert entry.actor == bob and "-old" in entry.summary and "team=web" in entry.summary


@pytest.mark.parametrize(
    ("pairs", "why"),
    [
        ([("system.username", "me")], "System labels can only be set by Flowsite itself"),
        ([("team", "")], "The label team needs a value"),
        ([("", "lonely")], "A label needs a key"),
    ],
)
def test_a_bad_label_is_refused_with_the_reason(
    client: Client, alice: Any, pairs: list[tuple[str, str]], why: str
) -> None:
    client.force_login(alice)
    execution = make_execution(labels={"team": "data"})

    response = _labels_post(client, execution, pairs)

    html = unescape(response.content.decode())
    assert why in html
    assert f'value="{pairs[0][1]}"' in html or not pairs[0][1]  # what was typed stays
    execution.refresh_from_db()
    assert execution.labels == {"team": "data"}


def test_a_viewer_sees_labels_without_a_form_and_cannot_post(client: Client, charlie: Any) -> None:
    RoleBinding.objects.create(namespace="dev", user=charlie, role=Role.VIEWER)
    client.force_login(charlie)
    execution = make_execution(labels={"team": "data"})

    html = execution_page(client, execution)

    assert ">team: data</a>" in html and 'data-testid="labels-form"' not in html
    assert _labels_post(client, execution, [("team", "web")]).status_code == 403


def test_an_outsider_gets_404_for_the_labels_form(client: Client, bob: Any) -> None:
    client.force_login(bob)
    execution = make_execution(labels={"team": "data"})  # in dev

    assert _labels_post(client, execution, [("team", "web")]).status_code == 404
    execution.refresh_from_db()
    assert execution.labels == {"team": "data"}


def test_an_editor_sees_the_labels_form(client: Client, alice: Any) -> None:
    client.force_login(alice)
    html = execution_page(
        client, make_execution(labels={"team": "data", "system.username": "alice"})
    )

    form = re.search(r'<form [^>]*data-testid="labels-form">(.*?)</form>', html, re.S)
    assert form
    assert 'value="team"' in form.group(1) and "system.username" not in form.group(1)


def _api_labels(client: Client, execution: Execution, body: Any, user: str = "alice") -> Any:
    return client.post(
        f"/api/v1/executions/{execution.pk}/labels",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(user),
    )


def test_the_api_adds_or_updates_labels_of_an_ended_execution_as_kestra_does(
    client: Client, alice: Any
) -> None:
    execution = make_execution(labels={"team": "data", "keep": "me", "system.username": "alice"})

    response = _api_labels(
        client,
        execution,
        [{"key": "team", "value": "web"}, {"key": "new", "value": "1"},
         {"key": "system.username", "value": "alice"}],
    )  # fmt: skip

    assert response.status_code == 200, response.content
    expected = {"team": "web", "keep": "me", "new": "1", "system.username": "alice"}
    assert {item["key"]: item["value"] for item in response.json()["labels"]} == expected
    execution.refresh_from_db()
    assert execution.labels == expected
    assert AuditEntry.objects.filter(action="labelled", object_id=execution.pk).exists()
    again = _api_labels(client, execution, [{"key": "x", "value": "1"}])
    assert again.status_code == 200 and "x" in Execution.objects.get(pk=execution.pk).labels


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([{"key": "system.correlationId", "value": "forged"}], "System labels can only be set"),
        ({"key": "a", "value": "b"}, "The body must be a JSON list of {key, value}"),
        ([{"key": "a"}], "The label a needs a value"),
    ],
)
def test_the_api_refuses_bad_labels(client: Client, alice: Any, body: Any, message: str) -> None:
    execution = make_execution(labels={"system.correlationId": "abc"})

    response = _api_labels(client, execution, body)

    assert response.status_code == 400
    assert message in response.json()["message"]


def test_the_api_refuses_labels_on_a_running_execution_and_hides_others(
    client: Client, alice: Any, bob: Any, charlie: Any
) -> None:
    running = make_execution(state=State.RUNNING, ended_at=None)
    response = _api_labels(client, running, [{"key": "a", "value": "b"}])
    assert response.status_code == 400
    assert response.json()["message"] == "The execution is not terminated"

    ended = make_execution()  # in dev
    for outsider in ("bob", "charlie"):
        assert _api_labels(client, ended, [{"key": "a", "value": "b"}], outsider).status_code == 404
    RoleBinding.objects.create(namespace="dev", user=charlie, role=Role.VIEWER)
    assert _api_labels(client, ended, [{"key": "a", "value": "b"}], "charlie").status_code == 403
    assert Execution.objects.get(pk=ended.pk).labels == {}

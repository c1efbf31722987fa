"""The loaders of accounts/access.py, through every door that reaches an object: pages,
the REST API, file downloads and the execution websocket.

bob holds a role, but on company.data: for him alice's dev namespace must look empty,
exactly as for an id that names nothing. charlie is given Viewer on dev where a test
needs someone who sees but may not act.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.http import StreamingHttpResponse
from django.test import Client

from accounts.access import execution_for_follower
from accounts.models import Role, RoleBinding
from executions.lifecycle import execution_start
from executions.models import Execution
from executions.routing import websocket_urlpatterns
from executions.storage import storage_save
from flows.models import Flow
from tests.conftest import basic_auth
from triggers.models import TriggerState

FLOW_YAML = """id: report
namespace: dev
tasks:
  - id: say
    type: Log
    message: hello
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
"""
FILE = "kestra:///dev/report/executions/{execution}/inputs/data/data.txt"


def _world(alice: Any) -> Execution:
    flow = Flow.save_source(FLOW_YAML, author=alice)
    execution = execution_start(flow=flow)
    storage_save(FILE.format(execution=execution.pk), b"dev's data")
    return execution


@pytest.fixture
def execution(alice: Any) -> Execution:
    return _world(alice)


def _as(client: Client, user: Any) -> Client:
    client.force_login(user)
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth(user.username)
    return client


def _viewer_on_dev(user: Any) -> None:
    RoleBinding.objects.create(user=user, namespace="dev", role=Role.VIEWER)


def _execution_doors(execution_id: str) -> list[tuple[str, str, bool]]:
    """(method, path, is_api) of everything that loads one execution by its id."""
    file = FILE.format(execution=execution_id)
    return [
        ("get", f"/executions/{execution_id}/", False),
        ("get", f"/executions/{execution_id}/task-runs/", False),
        ("get", f"/executions/{execution_id}/file/?path={file}", False),
        ("post", f"/executions/{execution_id}/kill/", False),
        ("post", f"/executions/{execution_id}/restart/", False),
        ("post", f"/executions/{execution_id}/replay/", False),
        ("post", f"/executions/{execution_id}/resume/", False),
        ("get", f"/api/v1/executions/{execution_id}", True),
        ("get", f"/api/v1/executions/{execution_id}/file?path={file}", True),
        ("get", f"/api/v1/executions/{execution_id}/file/metas?path={file}", True),
        ("get", f"/api/v1/logs/{execution_id}", True),
        ("delete", f"/api/v1/executions/{execution_id}/kill", True),
        ("post", f"/api/v1/executions/{execution_id}/restart", True),
        ("post", f"/api/v1/executions/{execution_id}/replay", True),
        ("post", f"/api/v1/executions/{execution_id}/resume", True),
    ]


@pytest.mark.django_db
def test_an_execution_out_of_sight_answers_every_door_as_one_that_does_not_exist(
    client: Client, execution: Execution, bob: Any
) -> None:
    _as(client, bob)
    for (method, path, api), (_, nowhere, _) in zip(
        _execution_doors(execution.pk), _execution_doors("nope"), strict=True
    ):
        hidden, missing = getattr(client, method)(path), getattr(client, method)(nowhere)
        assert (hidden.status_code, missing.status_code) == (404, 404), path
        if api:
            assert hidden.json() == {"message": f"Execution {execution.pk} not found"}, path
            assert missing.json() == {"message": "Execution nope not found"}, path
        body = b"".join(getattr(hidden, "streaming_content", [hidden.content]))
        assert not re.search(rb"\bdev\b", body), path  # the namespace ("device-width" is not)
    assert Execution.objects.get().state == "CREATED"  # nothing was killed, nothing replayed


@pytest.mark.django_db
def test_a_viewer_downloads_an_executions_files_but_may_not_steer_it(
    client: Client, execution: Execution, charlie: Any
) -> None:
    _viewer_on_dev(charlie)
    _as(client, charlie)
    for method, path, api in _execution_doors(execution.pk):
        response = getattr(client, method)(path)
        if method == "get":
            assert response.status_code == 200, path
        else:
            assert response.status_code == 403, path
            if api:
                assert response.json() == {"message": "You need the Runner role on dev"}
    page = client.get(
        f"/executions/{execution.pk}/file/?path={FILE.format(execution=execution.pk)}"
    )
    assert isinstance(page, StreamingHttpResponse)
    assert b"".join(page.streaming_content) == b"dev's data"
    assert Execution.objects.get().state == "CREATED"


def _knock(execution_id: str, user: Any) -> tuple[bool, Any]:
    async def knock() -> tuple[bool, Any]:
        communicator = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/executions/{execution_id}/"
        )
        communicator.scope["user"] = user
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    return async_to_sync(knock)()


@pytest.mark.django_db(transaction=True)
def test_a_websocket_on_an_execution_out_of_sight_closes_as_on_one_that_does_not_exist(
    alice: Any, bob: Any
) -> None:
    execution = _world(alice)
    assert _knock(execution.pk, bob) == (False, 4404)
    assert _knock("nope", bob) == (False, 4404)
    assert _knock(execution.pk, alice)[0] is True


@pytest.mark.django_db
def test_a_follower_is_asked_afresh_whether_they_are_still_active(
    execution: Execution, alice: Any
) -> None:
    assert execution_for_follower(alice, execution.pk) == execution
    assert execution_for_follower(None, execution.pk) is None
    assert execution_for_follower(AnonymousUser(), execution.pk) is None
    # Deactivated in the database while the socket's user object still says active.
    type(alice).objects.filter(pk=alice.pk).update(is_active=False)
    assert alice.is_active and execution_for_follower(alice, execution.pk) is None


@pytest.mark.django_db
def test_a_trigger_out_of_sight_is_not_found_and_one_out_of_reach_is_refused(
    client: Client, execution: Execution, bob: Any, charlie: Any
) -> None:
    _viewer_on_dev(charlie)
    toggle = "/flows/dev/report/triggers/nightly/toggle/"

    def put(trigger_id: str) -> Any:
        body = f'{{"namespace": "dev", "flowId": "report", "triggerId": "{trigger_id}", '
        body += '"disabled": true}'
        return client.put("/api/v1/triggers", body, content_type="application/json")

    _as(client, bob)
    assert client.post(toggle).status_code == 404
    assert client.get("/flows/dev/report/triggers/").status_code == 404
    assert put("nightly").json() == {"message": "Trigger dev.report.nightly not found"}
    assert put("nope").json() == {"message": "Trigger dev.report.nope not found"}
    assert client.get("/api/v1/triggers/dev/report").json() == {
        "message": "Flow dev.report not found"
    }

    _as(client, charlie)
    assert client.get("/flows/dev/report/triggers/").status_code == 200
    assert client.post(toggle).status_code == 403
    refused = put("nightly")
    assert refused.status_code == 403
    assert refused.json() == {"message": "You need the Editor role on dev"}
    assert not TriggerState.objects.get(trigger_id="nightly").disabled


@pytest.mark.django_db
def test_revisions_are_seen_by_viewers_restored_by_editors_and_hidden_from_others(
    client: Client, execution: Execution, alice: Any, bob: Any, charlie: Any
) -> None:
    Flow.save_source(FLOW_YAML + "# second\n", author=alice)
    pages = [
        "/flows/dev/report/revisions/",
        "/flows/dev/report/revisions/1/",
        "/flows/dev/report/revisions/diff/?from=1&to=2",
    ]
    restore = "/flows/dev/report/revisions/1/restore/"

    _as(client, bob)
    assert [client.get(page).status_code for page in pages] == [404, 404, 404]
    assert client.post(restore).status_code == 404

    _viewer_on_dev(charlie)
    _as(client, charlie)
    assert [client.get(page).status_code for page in pages] == [200, 200, 200]
    assert client.post(restore).status_code == 403
    assert Flow.objects.get().revision == 2

    _as(client, alice)
    assert client.get("/flows/dev/report/revisions/9/").status_code == 404
    assert client.get("/flows/dev/report/revisions/diff/?from=1&to=9").status_code == 404
    Flow.objects.get().soft_delete()
    assert client.get("/flows/dev/report/revisions/1/").status_code == 404


@pytest.mark.django_db
def test_a_new_flow_is_refused_where_its_author_is_not_an_editor_and_says_why(
    client: Client, bob: Any, charlie: Any
) -> None:
    def create(user: Any) -> Any:
        return _as(client, user).post("/api/v1/flows", FLOW_YAML, content_type="application/x-yaml")

    # Out of sight: refused, not hidden, since the author named the namespace themself.
    assert create(bob).json() == {
        "message": "You need the Editor role on dev to create flows there"
    }
    _viewer_on_dev(charlie)
    refused = create(charlie)
    assert refused.status_code == 403
    assert refused.json() == {"message": "You need the Editor role on dev"}
    page = client.post("/flows/new/", {"source": FLOW_YAML}).content.decode()
    assert "You need the Editor role on dev" in page
    assert not Flow.objects.exists()


@pytest.mark.django_db
def test_a_name_that_cannot_be_a_namespace_is_not_found_even_for_its_parents_admin(
    client: Client, alice: Any
) -> None:
    _as(client, alice)
    for path in ("/namespaces/dev.Not_OK!/", "/namespaces/dev.Not_OK!/variables/"):
        assert client.get(path).status_code == 404, path
    response = client.get("/api/v1/namespaces/dev.Not_OK!")
    assert response.json() == {"message": "Namespace dev.Not_OK! not found"}

"""Every URL and websocket route, asked by every kind of person.

The routes are discovered from the URL configuration: a new view that is not listed
in EXPECTATIONS (tests/accounts/permission_expectations.py) fails
``test_every_route_has_an_expectation``, so none can ship without a decision about who
may use it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Role, RoleBinding
from environments.models import PythonEnvironment
from executions.lifecycle import execution_start
from executions.models import Execution
from executions.routing import websocket_urlpatterns
from executions.storage import storage_save
from flows.models import Flow
from namespaces.files import file_write
from namespaces.kv import kv_set, kv_typed
from namespaces.models import NamespaceVariable, Secret
from tests.accounts.permission_expectations import (
    BINDINGS,
    EXPECTATIONS,
    FLOW_YAML,
    MATRIX_FILE,
    NAMESPACE,
    OWNED_ELSEWHERE,
    PERSONAS,
    Case,
    Need,
    Persona,
)
from tests.accounts.permission_expectations_environments import ENVIRONMENT_EXPECTATIONS
from tests.accounts.permission_expectations_kestra import KESTRA_EXPECTATIONS
from tests.accounts.permission_expectations_lists import LIST_EXPECTATIONS
from tests.accounts.permission_expectations_logs import LOG_VIEW_EXPECTATIONS
from tests.personas import PASSWORD

ALL_EXPECTATIONS = {
    **EXPECTATIONS,
    **KESTRA_EXPECTATIONS,
    **ENVIRONMENT_EXPECTATIONS,
    **LOG_VIEW_EXPECTATIONS,
    **LIST_EXPECTATIONS,
}


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    routes = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                routes.append("admin/")  # the Django admin is one decision
                continue
            routes += _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


def test_every_route_has_an_expectation() -> None:
    discovered = set(_routes(get_resolver().url_patterns))
    known = set(ALL_EXPECTATIONS) | set(OWNED_ELSEWHERE)
    assert discovered - known == set(), "routes nobody decided the permissions of"
    assert known - discovered == set(), "expectations for routes that no longer exist"


def test_every_websocket_route_is_covered() -> None:
    assert [str(p.pattern) for p in websocket_urlpatterns] == ["ws/executions/<str:execution_id>/"]


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    return _make_world()


def _make_world() -> dict[str, Any]:
    from accounts.models import Team
    from accounts.tokens import token_create

    User = get_user_model()
    users = {}
    for persona in PERSONAS[1:]:
        user = User.objects.create_user(persona.name, password=PASSWORD)
        if persona.superuser:
            user.is_superuser = user.is_staff = True
            user.save()
        if persona.name in BINDINGS:
            namespace, role = BINDINGS[persona.name]
            RoleBinding.objects.create(user=user, namespace=namespace, role=role)
        users[persona.name] = user
    flow = Flow.save_source(FLOW_YAML)
    Flow.save_source(FLOW_YAML.replace(NAMESPACE, "acme.web").replace("report", "web-report"))
    execution = execution_start(flow=flow)
    # Objects the management pages act on; the bystander is nobody's persona.
    bystander = User.objects.create_user("bystander", password=PASSWORD)
    binding = RoleBinding.objects.create(user=bystander, namespace=NAMESPACE, role=Role.VIEWER)
    team = Team.objects.create(name="ops")
    team.members.add(bystander)
    token, _ = token_create(user=users["admin"], name="matrix", days=30)
    Secret.store(namespace=NAMESPACE, key="MATRIX_SECRET", value="matrix secret value")
    NamespaceVariable.store(namespace=NAMESPACE, key="matrix_var", value="matrix")
    storage_save(MATRIX_FILE.format(execution=execution.pk), b"matrix")
    kv_set(namespace=NAMESPACE, key="matrix_kv", typed=kv_typed("matrix", None))
    file_write(namespace=NAMESPACE, path="matrix.txt", content=b"matrix")
    environment = PythonEnvironment.objects.create(
        key="matrixenv",
        request_key="matrix",
        runner="process",
        place="matrix-host",
        platform="/usr/bin/python3",
        installer="UV",
        state=PythonEnvironment.State.READY,
    )
    return {
        "users": users,
        "flow": flow,
        "execution": execution,
        "ids": {
            "binding": binding.pk,
            "team": team.pk,
            "user": bystander.pk,
            "token": token.pk,
            "environment": environment.key,
        },
    }


def _allowed(persona: Persona, need: Need) -> bool:
    if persona.name == "anonymous":
        return False
    if need is Need.LOGIN:
        return True
    if need in (Need.SUPERUSER, Need.STAFF):
        return persona.superuser
    if need is Need.OWNER:
        return persona.name == "admin"
    return persona.role is not None and persona.role >= need.value


def _sees_namespace(persona: Persona) -> bool:
    return persona.role is not None


def _request(client: Client, case: Case, world: dict[str, Any], persona: Persona) -> Any:
    path = case.path.format(
        ns=NAMESPACE, flow=world["flow"].flow_id, execution=world["execution"].pk, **world["ids"]
    )
    headers: dict[str, str] = {}
    if persona.name != "anonymous":
        if case.api:
            token = base64.b64encode(f"{persona.name}:{PASSWORD}".encode()).decode()
            headers["HTTP_AUTHORIZATION"] = f"Basic {token}"
        else:
            client.force_login(world["users"][persona.name])
    method = getattr(client, case.method.lower())
    if isinstance(case.body, str):
        return method(path, data=case.body, content_type="application/x-yaml", **headers)
    return method(path, data=case.body or {}, **headers)


CASES = [
    pytest.param(case, persona, id=f"{case.method} {case.path} as {persona.name}")
    for cases in ALL_EXPECTATIONS.values()
    for case in cases
    for persona in PERSONAS
]


@pytest.mark.parametrize(("case", "persona"), CASES)
def test_each_route_answers_each_person_as_their_role_allows(
    world: dict[str, Any], client: Client, case: Case, persona: Persona
) -> None:
    response = _request(client, case, world, persona)
    status = response.status_code
    if case.need is Need.PUBLIC:
        assert status == 200
        return
    if persona.name == "anonymous":
        if case.api:
            assert status == 401
        else:
            assert status == 302 and "login" in response["Location"]
        return
    if case.need is Need.STAFF:
        expected_ok = persona.superuser
        assert (
            (status == 200) if expected_ok else (status == 302 and "login" in response["Location"])
        )
        return
    if _allowed(persona, case.need):
        # A state conflict: 409, or Kestra's 400 for labels on an execution still running.
        allowed_status = status < 400 or (case.conflict_allowed and status in (400, 409))
        assert allowed_status, f"{persona.name} was refused ({status})"
        if case.path == "/flows/new/" and case.method == "POST":
            assert Flow.objects.filter(namespace=NAMESPACE, flow_id="fresh").exists()
        if case.lists_namespace:
            shown = NAMESPACE in response.content.decode()
            assert shown == _sees_namespace(persona), "a list shows what its reader may not see"
        return
    # Refused: 404 when the namespace is out of sight, 403 when it is only out of reach.
    if case.path == "/flows/new/" and case.method == "POST":
        assert status == 200 and "You need the Editor role" in response.content.decode()
        assert not Flow.objects.filter(flow_id="fresh").exists()
    elif case.path in ("/api/v1/flows", "/api/v1/flows/bulk") and case.method == "POST":
        assert status == 403 and not Flow.objects.filter(flow_id="fresh").exists()
    elif case.need in (Need.SUPERUSER, Need.OWNER) or not _sees_namespace(persona):
        assert status == 404
        if "{execution}" in case.path:  # named by id only: its namespace stays unsaid
            assert NAMESPACE not in response.content.decode()
    else:
        assert status == 403
    assert world["flow"].__class__.objects.filter(pk=world["flow"].pk, deleted_at=None).exists()
    assert Execution.objects.get(pk=world["execution"].pk).state == "CREATED"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.name)
def test_the_execution_websocket_admits_exactly_those_who_may_view(persona: Persona) -> None:
    from django.contrib.auth.models import AnonymousUser

    world_data = _make_world()
    user = AnonymousUser() if persona.name == "anonymous" else world_data["users"][persona.name]

    async def connect() -> tuple[bool, Any]:
        communicator = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/executions/{world_data['execution'].pk}/"
        )
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        first = await communicator.receive_from() if connected else None
        await communicator.disconnect()
        return connected, first

    connected, first = async_to_sync(connect)()
    may_view = persona.name != "anonymous" and persona.role is not None
    assert connected == may_view
    if connected:
        assert json.loads(first)["type"] == "start"  # then its backlog and state

"""Kestra 1.x's tenant paths over real HTTP: ``/api/v1/main/...`` serves what
``/api/v1/...`` serves (both kept), any other tenant is a JSON 404, and the tenant
changes nothing about who may do what. kestrapy signs in with HTTP Basic here."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from kestrapy import KestraClient
from kestrapy.exceptions import ForbiddenException, NotFoundException

from tests.kestra_client.conftest import TENANT, body_of
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

HELLO = """\
id: hello
namespace: dev
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


@pytest.fixture
def fast_passwords() -> None:
    """The real hashers: the server, in its own process, checks the passwords."""


def basic(server_url: str, username: str) -> KestraClient:
    return KestraClient(host=server_url, username=username, password=PASSWORD, timeout=30)


def test_alice_uses_the_tenant_paths_with_basic_auth(server_url: str, alice: Any) -> None:
    with basic(server_url, "alice") as kestra:
        created = kestra.flows.create_flow(TENANT, HELLO)
        fetched = kestra.flows.flow("dev", "hello", TENANT)

    assert (created.id, fetched.revision) == ("hello", 1)


def test_the_tenant_less_paths_are_kept(server_url: str, alice: Any) -> None:
    session = requests.Session()
    session.auth = ("alice", PASSWORD)
    with basic(server_url, "alice") as kestra:
        kestra.flows.create_flow(TENANT, HELLO)

    with_tenant = session.get(f"{server_url}/api/v1/main/flows/dev/hello", timeout=30)
    without = session.get(f"{server_url}/api/v1/flows/dev/hello", timeout=30)

    assert with_tenant.status_code == without.status_code == 200
    assert with_tenant.json() == without.json()


def test_charlie_is_refused_on_the_tenant_paths(server_url: str, alice: Any, charlie: Any) -> None:
    with basic(server_url, "alice") as kestra:
        kestra.flows.create_flow(TENANT, HELLO)

    with basic(server_url, "charlie") as kestra:
        with pytest.raises(NotFoundException):
            kestra.flows.flow("dev", "hello", TENANT)
        with pytest.raises(ForbiddenException):
            kestra.flows.create_flow(TENANT, HELLO.replace("id: hello", "id: mine"))
        with pytest.raises(NotFoundException):
            kestra.executions.create_execution(TENANT, "dev", "hello")


def test_another_tenant_is_a_json_404(server_url: str, alice: Any) -> None:
    with basic(server_url, "alice") as kestra:
        kestra.flows.create_flow(TENANT, HELLO)
        with pytest.raises(NotFoundException) as refused:
            kestra.flows.flow("dev", "hello", "acme")

    assert "Tenant 'acme' not found" in json.loads(body_of(refused))["message"]

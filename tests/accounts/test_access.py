"""Namespace Admins grant and revoke roles from the Access page; superusers manage teams
and users. A role on a namespace holds on its children, and every change counts from
the next request on, open websockets included."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.test import Client
from websockets.exceptions import ConnectionClosed

from accounts.models import AuditEntry, Role, RoleBinding, Team
from executions.live import execution_wake
from executions.models import Execution
from tests.executions.test_live_logs import follow, session_cookie
from tests.flows_helpers import flow_yaml, save_flow

pytestmark = pytest.mark.django_db

LOG_TASK = "  - id: say\n    type: Log\n    message: hello\n"


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def flow_in(namespace: str, flow_id: str = "report") -> Any:
    return save_flow(flow_yaml(LOG_TASK, flow_id=flow_id, namespace=namespace))


def grant(client: Client, page: str, **fields: Any) -> Any:
    data = {"kind": "user", "role": Role.VIEWER, "namespace": page, **fields}
    return client.post(f"/namespaces/{page}/access/", data)


def binding_of(namespace: str, **subject: Any) -> RoleBinding:
    return RoleBinding.objects.get(namespace=namespace, **subject)


def redirected_to(response: HttpResponseBase) -> str:
    assert isinstance(response, HttpResponseRedirect), response
    return response.url


# Inheritance


def test_a_role_on_a_namespace_holds_on_all_its_children_and_nowhere_else(bob: Any) -> None:
    for namespace in ("company", "company.data", "company.data.etl", "company.datalake"):
        flow_in(namespace)
    client = logged_in(bob)

    listed = client.get("/namespaces/").content.decode()
    assert "company.data.etl" in listed
    assert "company.datalake" not in listed
    assert client.get("/namespaces/company.data.etl/").status_code == 200
    assert client.get("/namespaces/company/").status_code == 404
    assert client.get("/namespaces/company.datalake/").status_code == 404
    # Editor on company.data: may edit its child's flows.
    assert client.post("/flows/company.data.etl/report/delete/").status_code == 302


def test_an_admin_of_a_parent_manages_the_access_of_its_children(alice: Any, bob: Any) -> None:
    response = logged_in(alice).get("/namespaces/company.data.etl/access/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Team data" in page
    assert "User alice" in page
    assert "inherited" in page


# The Access page


def test_the_access_page_shows_own_inherited_and_child_bindings(alice: Any, bob: Any) -> None:
    RoleBinding.objects.create(namespace="company.data.etl", user=alice, role=Role.RUNNER)
    response = logged_in(alice).get("/namespaces/company.data/access/")
    rows = {
        (row["binding"].subject, row["binding"].namespace): row["inherited"]
        for row in response.context["rows"]
    }
    assert rows == {
        ("user alice", "company"): True,
        ("team data", "company.data"): False,
        ("user alice", "company.data.etl"): False,
    }


def test_an_admin_grants_a_team_a_role_and_its_members_see_the_namespace_at_once(
    alice: Any, bob: Any
) -> None:
    flow_in("dev")
    bob_client = logged_in(bob)
    assert bob_client.get("/namespaces/dev/").status_code == 404

    response = grant(logged_in(alice), "dev", kind="team", name="data")

    assert response.status_code == 302
    assert binding_of("dev", team__name="data").role == Role.VIEWER
    assert bob_client.get("/namespaces/dev/").status_code == 200
    assert bob_client.post("/flows/dev/report/run/").status_code == 403
    assert AuditEntry.objects.filter(action="granted", namespace="dev").exists()


def test_an_admin_grants_a_user_a_role_on_a_child_namespace(alice: Any, charlie: Any) -> None:
    flow_in("company.web")
    response = grant(
        logged_in(alice), "company", name="charlie", role=Role.RUNNER, namespace="company.web"
    )
    assert response.status_code == 302
    assert binding_of("company.web", user=charlie).role == Role.RUNNER
    assert logged_in(charlie).post("/flows/company.web/report/run/").status_code == 302


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "nobody"}, "No user is called nobody"),
        ({"kind": "team", "name": "nobody"}, "No team is called nobody"),
        ({"name": "charlie", "role": 9}, "Select a valid choice"),
        ({"name": "alice"}, "User alice already has a role on dev"),
        ({"name": "charlie", "namespace": "Not A Namespace"}, "is not a namespace"),
        ({"name": "charlie", "namespace": "devices"}, "go on dev or a namespace inside it"),
        ({"name": "charlie", "namespace": "company"}, "go on dev or a namespace inside it"),
    ],
)
def test_a_refused_grant_says_why_and_changes_nothing(
    alice: Any, charlie: Any, fields: dict[str, Any], message: str
) -> None:
    before = RoleBinding.objects.count()
    response = grant(logged_in(alice), "dev", **fields)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert RoleBinding.objects.count() == before


def test_an_admin_cannot_grant_or_escalate_outside_their_subtree(bob: Any, charlie: Any) -> None:
    RoleBinding.objects.create(namespace="company.data", user=bob, role=Role.ADMIN)
    client = logged_in(bob)

    outside = grant(client, "company.data", name="bob", role=Role.ADMIN, namespace="company")
    assert outside.status_code == 422
    assert grant(client, "company", name="charlie").status_code == 404
    assert grant(client, "dev", name="bob", role=Role.ADMIN).status_code == 404
    assert not RoleBinding.objects.filter(namespace__in=["company", "dev"]).exists()


def test_people_who_are_not_admins_get_403_where_they_see_and_404_elsewhere(
    alice: Any, bob: Any, charlie: Any
) -> None:
    assert logged_in(bob).get("/namespaces/company.data/access/").status_code == 403
    assert grant(logged_in(bob), "company.data", name="bob", role=Role.ADMIN).status_code == 403
    assert logged_in(bob).get("/namespaces/dev/access/").status_code == 404
    assert logged_in(charlie).get("/namespaces/dev/access/").status_code == 404
    assert Client().get("/namespaces/dev/access/").status_code == 302  # to the login page


def test_an_inherited_binding_is_changed_only_by_an_admin_of_its_own_namespace(
    alice: Any, bob: Any
) -> None:
    RoleBinding.objects.create(namespace="company.data", user=bob, role=Role.ADMIN)
    alices = binding_of("company", user=alice)
    client = logged_in(bob)

    page = client.get("/namespaces/company.data/access/").content.decode()
    assert "Revoke user alice on company" not in page
    assert "managed on" in page
    url = f"/namespaces/company.data/access/{alices.pk}/"
    assert client.post(url + "revoke/").status_code == 403
    assert client.post(url, {"role": Role.VIEWER}).status_code == 403
    # Nor through a namespace whose bindings it is not among.
    dev = binding_of("dev", user=alice)
    assert client.post(f"/namespaces/company.data/access/{dev.pk}/revoke/").status_code == 404
    assert binding_of("company", user=alice).role == Role.ADMIN
    assert binding_of("dev", user=alice).role == Role.ADMIN


def test_a_changed_or_revoked_binding_counts_from_the_next_request(
    alice: Any, charlie: Any
) -> None:
    flow_in("dev")
    admin = logged_in(alice)
    grant(admin, "dev", name="charlie", role=Role.RUNNER)
    binding = binding_of("dev", user=charlie)
    client = logged_in(charlie)
    assert client.post("/flows/dev/report/run/").status_code == 302

    changed = admin.post(f"/namespaces/dev/access/{binding.pk}/", {"role": Role.VIEWER})
    assert changed.status_code == 302
    assert client.post("/flows/dev/report/run/").status_code == 403
    assert client.get("/namespaces/dev/").status_code == 200

    assert admin.post(f"/namespaces/dev/access/{binding.pk}/revoke/").status_code == 302
    assert client.get("/namespaces/dev/").status_code == 404
    execution = Execution.objects.get()
    assert client.get(execution.get_absolute_url()).status_code == 404
    assert execution.pk not in client.get("/executions/").content.decode()


def test_a_bad_role_in_a_change_is_refused(alice: Any, charlie: Any) -> None:
    binding = RoleBinding.objects.create(namespace="dev", user=charlie, role=Role.VIEWER)
    response = logged_in(alice).post(f"/namespaces/dev/access/{binding.pk}/", {"role": "99"})
    assert response.status_code == 422
    assert "Not a role" in response.content.decode()
    assert binding_of("dev", user=charlie).role == Role.VIEWER


def test_an_admin_who_revokes_their_own_role_is_sent_where_they_still_may_go(
    alice: Any,
) -> None:
    response = logged_in(alice).post(
        f"/namespaces/dev/access/{binding_of('dev', user=alice).pk}/revoke/"
    )
    assert response.status_code == 302
    assert redirected_to(response) == "/namespaces/"


@pytest.mark.django_db(transaction=True)
def test_a_revoked_binding_closes_an_open_websocket_on_the_namespace_execution(
    server_url: str, alice: Any, charlie: Any
) -> None:
    flow = flow_in("dev")
    # A row with no job behind it: the execution stays open for as long as the test needs.
    execution = Execution.objects.create(
        flow_revision=flow.current_revision, namespace="dev", flow_id=flow.flow_id
    )
    admin = logged_in(alice)
    grant(admin, "dev", name="charlie")
    binding = binding_of("dev", user=charlie)

    with (
        follow(server_url, execution.pk, session_cookie(charlie)) as watcher,
        follow(server_url, execution.pk, session_cookie(alice)) as owner,
    ):
        for socket in (watcher, owner):  # the line count first, then the state
            assert [_receive(socket)["type"] for _ in range(2)] == ["start", "state"]

        assert admin.post(f"/namespaces/dev/access/{binding.pk}/revoke/").status_code == 302

        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            while True:
                watcher.recv(timeout=5)
        assert time.monotonic() - started < 5
        # The Admin's socket on the same execution is still followed.
        Execution.objects.filter(pk=execution.pk).update(state="RUNNING")
        execution_wake(execution.pk)
        assert _receive(owner)["state"] == "RUNNING"


def _receive(socket: Any) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=10))


# Links


def test_the_namespace_page_links_to_access_for_its_admins_only(alice: Any, bob: Any) -> None:
    link = 'href="/namespaces/company.data/access/"'
    assert link in logged_in(alice).get("/namespaces/company.data/").content.decode()
    assert link not in logged_in(bob).get("/namespaces/company.data/").content.decode()


def test_the_header_links_to_teams_and_users_for_superusers_only(
    admin_client: Client, alice: Any
) -> None:
    assert 'href="/teams/"' in admin_client.get("/namespaces/").content.decode()
    assert 'href="/users/"' in admin_client.get("/namespaces/").content.decode()
    assert 'href="/teams/"' not in logged_in(alice).get("/namespaces/").content.decode()


# Teams and users, for superusers


def test_teams_and_users_are_not_found_for_anyone_but_superusers(alice: Any, bob: Any) -> None:
    team = Team.objects.get(name="data")
    client = logged_in(alice)  # an Admin, yet not a superuser
    for url in ("/teams/", f"/teams/{team.pk}/", "/users/"):
        assert client.get(url).status_code == 404
    assert client.post("/teams/", {"name": "mine"}).status_code == 404
    assert client.post(f"/teams/{team.pk}/", {"username": "alice"}).status_code == 404
    assert client.post(f"/teams/{team.pk}/delete/").status_code == 404
    assert client.post(f"/users/{bob.pk}/active/", {"active": "0"}).status_code == 404
    assert client.post("/users/", {"username": "eve"}).status_code == 404
    assert Team.objects.filter(name="data").exists()
    assert not Team.objects.filter(name="mine").exists()
    assert get_user_model().objects.get(pk=bob.pk).is_active


def test_a_superuser_creates_a_team_whose_members_hold_its_roles(
    admin_client: Client, alice: Any, charlie: Any
) -> None:
    flow_in("dev")
    response = admin_client.post("/teams/", {"name": "ops"})
    team = Team.objects.get(name="ops")
    assert redirected_to(response) == f"/teams/{team.pk}/"
    assert admin_client.post("/teams/", {"name": "ops"}).status_code == 422

    assert admin_client.post(f"/teams/{team.pk}/", {"username": "charlie"}).status_code == 302
    unknown = admin_client.post(f"/teams/{team.pk}/", {"username": "nobody"})
    assert unknown.status_code == 422
    assert "No user is called nobody" in unknown.content.decode()
    grant(logged_in(alice), "dev", kind="team", name="ops")
    client = logged_in(charlie)
    assert client.get("/namespaces/dev/").status_code == 200
    assert "charlie" in admin_client.get(f"/teams/{team.pk}/").content.decode()

    admin_client.post(f"/teams/{team.pk}/members/{charlie.pk}/remove/")
    assert client.get("/namespaces/dev/").status_code == 404

    team.members.add(charlie)
    assert redirected_to(admin_client.post(f"/teams/{team.pk}/delete/")) == "/teams/"
    assert not RoleBinding.objects.filter(team__name="ops").exists()
    assert client.get("/namespaces/dev/").status_code == 404


def test_a_superuser_creates_a_user_who_logs_in_and_deactivates_them(
    admin_client: Client, password: str
) -> None:
    created = admin_client.post(
        "/users/",
        {
            "username": "dana",
            "email": "dana@example.org",
            "password1": password,
            "password2": password,
        },
    )
    assert created.status_code == 302
    dana = get_user_model().objects.get(username="dana")
    assert "dana" in admin_client.get("/users/").content.decode()
    client = Client()
    assert client.login(username="dana", password=password)
    assert client.get("/namespaces/").status_code == 200

    admin_client.post(f"/users/{dana.pk}/active/", {"active": "0"})
    assert client.get("/namespaces/").status_code == 302  # the session no longer counts
    assert not Client().login(username="dana", password=password)

    admin_client.post(f"/users/{dana.pk}/active/", {"active": "1"})
    assert Client().login(username="dana", password=password)


def test_a_new_user_needs_matching_passwords_and_a_free_username(
    admin_client: Client, alice: Any, password: str
) -> None:
    mismatch = admin_client.post(
        "/users/", {"username": "dana", "password1": password, "password2": "other"}
    )
    assert mismatch.status_code == 422
    taken = admin_client.post(
        "/users/", {"username": "alice", "password1": password, "password2": password}
    )
    assert taken.status_code == 422
    assert not get_user_model().objects.filter(username="dana").exists()


def test_a_superuser_cannot_deactivate_themselves(admin_client: Client, admin_user: Any) -> None:
    response = admin_client.post(f"/users/{admin_user.pk}/active/", {"active": "0"})
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_pages_offer_only_the_buttons_a_role_can_use(client, alice) -> None:
    from accounts.models import Role, RoleBinding
    from executions.lifecycle import execution_start
    from flows.models import Flow
    from tests.personas import make_charlie

    charlie = make_charlie()
    flow = Flow.save_source(
        "id: f\nnamespace: dev\ntasks:\n  - id: a\n    type: Log\n    message: m\n"
    )
    execution = execution_start(flow=flow)
    RoleBinding.objects.create(user=charlie, namespace="dev", role=Role.VIEWER)
    client.force_login(charlie)
    flow_page = client.get("/flows/dev/f/").content.decode()
    execution_page = client.get(f"/executions/{execution.pk}/").content.decode()
    assert ">Run<" not in flow_page and ">Save<" not in flow_page and "Delete flow" not in flow_page
    assert "Read only" in flow_page and ">Kill<" not in execution_page
    client.force_login(alice)
    flow_page = client.get("/flows/dev/f/").content.decode()
    execution_page = client.get(f"/executions/{execution.pk}/").content.decode()
    assert ">Run<" in flow_page and ">Save<" in flow_page and "Delete flow" in flow_page
    assert ">Kill<" in execution_page

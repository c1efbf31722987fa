"""The audit log: each action leaves one entry, and each namespace's Admins read theirs."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.audit import audit_record, flow_diff
from accounts.models import AuditEntry
from executions.lifecycle import execution_start
from executions.models import Execution, State
from flows.models import Flow
from tests.flows_helpers import PROCESS, flow_yaml

HELLO = flow_yaml(
    f"""\
    - id: greet
      type: io.kestra.plugin.scripts.shell.Commands
      taskRunner: {{type: {PROCESS}}}
      commands:
        - echo hello
    """,
    flow_id="hello",
)
HELLO_V2 = HELLO.replace("echo hello", "echo goodbye")
HELLO_API = "/api/v1/flows/dev/hello"


@pytest.fixture
def hello(alice: Any) -> Flow:
    return Flow.save_source(HELLO, author=alice)


@pytest.fixture
def as_alice(client: Client, alice: Any) -> Client:
    client.force_login(alice)
    return client


def the_only_entry() -> AuditEntry:
    entries = list(AuditEntry.objects.all())
    assert len(entries) == 1, entries
    return entries[0]


def assert_entry(entry: AuditEntry, actor: Any, action: str, object_type: str, object_id: str):
    assert (entry.actor, entry.actor_name, entry.action) == (actor, actor.username, action)
    assert (entry.namespace, entry.object_type, entry.object_id) == ("dev", object_type, object_id)


def put_yaml(client: Client, path: str, body: str) -> Any:
    return client.put(path, data=body, content_type="application/x-yaml")


# --- What the pages record ------------------------------------------------------------


def test_creating_a_flow_on_its_page_is_recorded(as_alice: Client, alice: Any) -> None:
    as_alice.post("/flows/new/", {"source": HELLO})
    assert_entry(the_only_entry(), alice, "created", "flow", "hello")


def test_editing_a_flow_on_its_page_records_the_diff(
    as_alice: Client, alice: Any, hello: Flow
) -> None:
    response = as_alice.post("/flows/dev/hello/", {"source": HELLO_V2}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    entry = the_only_entry()
    assert_entry(entry, alice, "changed", "flow", "hello")
    assert "--- revision 1\n+++ revision 2\n" in entry.diff
    assert "-    - echo hello\n+    - echo goodbye" in entry.diff


def test_saving_a_flow_unchanged_records_nothing(as_alice: Client, hello: Flow) -> None:
    as_alice.post("/flows/dev/hello/", {"source": HELLO}, HTTP_HX_REQUEST="true")
    assert not AuditEntry.objects.exists()


def test_a_refused_save_records_nothing(as_alice: Client, hello: Flow) -> None:
    as_alice.post("/flows/dev/hello/", {"source": "id: [broken"}, HTTP_HX_REQUEST="true")
    as_alice.post("/flows/new/", {"source": HELLO})  # it already exists
    assert not AuditEntry.objects.exists()


def test_deleting_a_flow_on_its_page_is_recorded(as_alice: Client, alice: Any, hello: Flow) -> None:
    as_alice.post("/flows/dev/hello/delete/")
    assert_entry(the_only_entry(), alice, "deleted", "flow", "hello")


def test_running_a_flow_from_its_page_is_recorded(
    as_alice: Client, alice: Any, hello: Flow
) -> None:
    as_alice.post("/flows/dev/hello/run/")
    execution = Execution.objects.get()
    assert_entry(the_only_entry(), alice, "ran", "execution", execution.pk)


def test_killing_an_execution_on_its_page_is_recorded(
    as_alice: Client, alice: Any, hello: Flow
) -> None:
    execution = execution_start(flow=hello, user=alice)
    as_alice.post(f"/executions/{execution.pk}/kill/")
    assert_entry(the_only_entry(), alice, "killed", "execution", execution.pk)


def test_killing_an_execution_that_already_ended_records_nothing(
    as_alice: Client, alice: Any, hello: Flow
) -> None:
    execution = execution_start(flow=hello, user=alice)
    Execution.objects.filter(pk=execution.pk).update(state=State.SUCCESS)
    as_alice.post(f"/executions/{execution.pk}/kill/")
    assert not AuditEntry.objects.exists()


def test_an_action_that_is_refused_records_nothing(client: Client, bob: Any, hello: Flow) -> None:
    client.force_login(bob)
    client.post("/flows/dev/hello/delete/")
    client.post("/flows/dev/hello/run/")
    assert Flow.objects.live().filter(pk=hello.pk).exists()
    assert not AuditEntry.objects.exists()


# --- What the REST API records --------------------------------------------------------


def test_creating_a_flow_through_the_api_is_recorded(api: Client, alice: Any) -> None:
    response = api.post("/api/v1/flows", data=HELLO, content_type="application/x-yaml")
    assert response.status_code == 200
    assert_entry(the_only_entry(), alice, "created", "flow", "hello")


def test_updating_a_flow_through_the_api_records_the_diff(
    api: Client, alice: Any, hello: Flow
) -> None:
    assert put_yaml(api, HELLO_API, HELLO_V2).status_code == 200
    entry = the_only_entry()
    assert_entry(entry, alice, "changed", "flow", "hello")
    assert "-    - echo hello\n+    - echo goodbye" in entry.diff


def test_putting_the_same_flow_again_records_nothing(api: Client, hello: Flow) -> None:
    assert put_yaml(api, HELLO_API, HELLO).status_code == 200
    assert not AuditEntry.objects.exists()


def test_deleting_a_flow_through_the_api_is_recorded(api: Client, alice: Any, hello: Flow) -> None:
    assert api.delete(HELLO_API).status_code == 204
    assert_entry(the_only_entry(), alice, "deleted", "flow", "hello")


def test_starting_an_execution_through_the_api_is_recorded(
    api: Client, alice: Any, hello: Flow
) -> None:
    execution_id = api.post("/api/v1/executions/dev/hello").json()["id"]
    assert_entry(the_only_entry(), alice, "ran", "execution", execution_id)


def test_killing_an_execution_through_the_api_is_recorded(
    api: Client, alice: Any, hello: Flow
) -> None:
    execution = execution_start(flow=hello, user=alice)
    assert api.delete(f"/api/v1/executions/{execution.pk}/kill").status_code == 202
    assert_entry(the_only_entry(), alice, "killed", "execution", execution.pk)


def test_a_refused_kill_through_the_api_records_nothing(
    api: Client, alice: Any, hello: Flow
) -> None:
    execution = execution_start(flow=hello, user=alice)
    Execution.objects.filter(pk=execution.pk).update(state=State.FAILED)
    assert api.delete(f"/api/v1/executions/{execution.pk}/kill").status_code == 409
    assert not AuditEntry.objects.exists()


# --- Who reads the log ----------------------------------------------------------------


def test_an_admin_sees_what_happened_in_the_namespaces_under_hers(
    client: Client, alice: Any, bob: Any
) -> None:
    client.force_login(bob)
    client.post(
        "/flows/new/", {"source": HELLO.replace("namespace: dev", "namespace: company.data")}
    )
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.namespace) == (bob, "created", "company.data")

    client.force_login(alice)
    response = client.get("/namespaces/company/audit/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "bob" in page and "created" in page and "company.data" in page


def test_the_log_shows_newest_first_with_each_edits_diff(
    as_alice: Client, alice: Any, hello: Flow
) -> None:
    as_alice.post("/flows/dev/hello/", {"source": HELLO_V2}, HTTP_HX_REQUEST="true")
    as_alice.post("/flows/dev/hello/delete/")

    page = as_alice.get("/namespaces/dev/audit/").content.decode()

    assert page.index("at revision 2") < page.index("revision 1 → 2")
    assert "<details>" in page and "+    - echo goodbye" in page


def test_the_log_of_a_namespace_never_shows_other_namespaces(as_alice: Client, alice: Any) -> None:
    for namespace in ("company", "company.data", "companydata", "dev"):
        audit_record(
            actor=alice,
            action="deleted",
            namespace=namespace,
            object_type="flow",
            object_id=f"flow-in-{namespace}",
        )

    page = as_alice.get("/namespaces/company/audit/").content.decode()

    assert "flow-in-company<" in page and "flow-in-company.data<" in page
    assert "flow-in-companydata" not in page and "flow-in-dev" not in page


def test_an_editor_who_is_not_admin_may_not_read_the_log(client: Client, bob: Any) -> None:
    client.force_login(bob)
    assert client.get("/namespaces/company.data/audit/").status_code == 403


def test_someone_without_a_role_is_told_the_log_does_not_exist(
    client: Client, charlie: Any
) -> None:
    client.force_login(charlie)
    assert client.get("/namespaces/company/audit/").status_code == 404


def test_the_log_needs_a_login(client: Client) -> None:
    response = client.get("/namespaces/company/audit/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_only_admins_see_the_link_to_the_log_on_the_namespace_page(
    client: Client, alice: Any, bob: Any
) -> None:
    link = 'href="/namespaces/company.data/audit/"'
    client.force_login(alice)
    assert link in client.get("/namespaces/company.data/").content.decode()
    client.force_login(bob)
    assert link not in client.get("/namespaces/company.data/").content.decode()


def test_a_diff_names_the_revisions_it_compares() -> None:
    diff = flow_diff("a\nb\n", "a\nc\n", old_revision=3, new_revision=4)
    assert diff.splitlines() == [
        "--- revision 3",
        "+++ revision 4",
        "@@ -1,2 +1,2 @@",
        " a",
        "-b",
        "+c",
    ]


def test_restarting_replaying_and_resuming_from_the_page_are_recorded(
    as_alice: Client, alice: Any, hello: Flow
) -> None:
    from executions.jobs import run_task_run

    failing = Flow.save_source(HELLO.replace("echo hello", "exit 1"), author=alice)
    execution = execution_start(flow=failing, user=alice)
    run_task_run(execution.task_runs.get().pk)
    as_alice.post(f"/executions/{execution.pk}/restart/")
    Execution.objects.filter(pk=execution.pk).update(state=State.FAILED)
    response = as_alice.post(f"/executions/{execution.pk}/replay/")
    replay = Execution.objects.get(original_id=execution.pk)
    assert response["Location"] == replay.get_absolute_url()
    entries = AuditEntry.objects.order_by("id")
    assert [(e.action, e.object_id) for e in entries] == [
        ("restarted", execution.pk),
        ("replayed", replay.pk),
    ]
    assert entries[1].summary == f"from {execution.pk}"


def test_a_refused_restart_says_why_and_records_nothing(
    as_alice: Client, alice: Any, hello: Flow
) -> None:
    execution = execution_start(flow=hello, user=alice)
    response = as_alice.post(f"/executions/{execution.pk}/restart/", follow=True)
    assert "Only a FAILED or KILLED execution can be restarted" in response.content.decode()
    assert not AuditEntry.objects.exists()

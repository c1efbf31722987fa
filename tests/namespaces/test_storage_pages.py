"""The KV store page and the namespace files editor, through Django's test client (the
browser test drives the same pages in Chromium)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import AuditEntry, Role, RoleBinding
from flows.models import Flow
from namespaces.files import entry_get, file_read, file_write
from namespaces.kv import kv_set, kv_typed
from namespaces.models import KeyValue
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def bob_client(client: Client, bob: Any) -> Client:
    client.login(username="bob", password=PASSWORD)
    return client


def test_bob_sets_a_typed_key_with_a_ttl_and_sees_it_listed(bob_client) -> None:
    answer = bob_client.post(
        "/namespaces/company.data/kv/",
        {
            "key": "limits",
            "type": "JSON",
            "value": '{"rows": 10}',
            "ttl": "P1D",
            "description": "caps",
        },
    )
    assert answer.status_code == 302
    entry = KeyValue.objects.get(namespace="company.data", key="limits")
    assert (entry.type, entry.value, entry.description) == ("JSON", {"rows": 10}, "caps")
    assert entry.expires_at is not None
    page = bob_client.get("/namespaces/company.data/kv/").content.decode()
    assert "limits" in page and "caps" in page and "{&quot;rows&quot;: 10}" in page


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (
            {"key": "n", "type": "NUMBER", "value": "lots"},
            "The value for kvType NUMBER is not valid JSON",
        ),
        ({"key": "b", "type": "BOOLEAN", "value": "yes"}, "must be true or false"),
        ({"key": "d", "type": "DATE", "value": "30/11/2026"}, "must be a date such as 2026-11-30"),
        ({"key": "../x", "type": "STRING", "value": "v"}, "must start with a letter or digit"),
        (
            {"key": "t", "type": "STRING", "value": "v", "ttl": "tomorrow"},
            "is not an ISO-8601 duration",
        ),
    ],
)
def test_a_value_that_does_not_fit_its_type_is_refused_with_the_reason(
    bob_client, form, expected
) -> None:
    answer = bob_client.post("/namespaces/company.data/kv/", form, **HTMX)
    assert answer.status_code == 422
    assert expected in answer.content.decode()
    assert not KeyValue.objects.exists()


def test_editing_fills_the_form_and_delete_removes_the_key(bob_client) -> None:
    kv_set(namespace="company.data", key="region", typed=kv_typed("eu-west", None))
    form = bob_client.get("/namespaces/company.data/kv/?edit=region", **HTMX).content.decode()
    assert 'value="region"' in form and "eu-west</textarea>" in form
    answer = bob_client.post("/namespaces/company.data/kv/region/delete/", **HTMX)
    assert answer.status_code == 200 and "No keys in this namespace" in answer.content.decode()
    assert not KeyValue.objects.exists()


def test_a_viewer_reads_files_but_is_offered_no_editing(client, alice) -> None:
    file_write(namespace="company.data", path="etl/run.sql", content=b"select 1")
    viewer = alice.__class__.objects.create_user("vera", password=PASSWORD)
    RoleBinding.objects.create(user=viewer, namespace="company.data", role=Role.VIEWER)
    client.login(username="vera", password=PASSWORD)
    page = client.get("/namespaces/company.data/files/?path=etl/run.sql").content.decode()
    assert "select 1" in page and "Save file" not in page and "New folder" not in page
    answer = client.post(
        "/namespaces/company.data/files/save/", {"path": "etl/run.sql", "content": "x"}
    )
    assert answer.status_code == 403
    assert file_read("company.data", "etl/run.sql") == b"select 1"


def test_bob_creates_edits_renames_and_deletes_files_and_folders(bob_client) -> None:
    url = "/namespaces/company.data/files"
    assert (
        bob_client.post(f"{url}/new/", {"path": "etl", "kind": "folder"}, **HTMX).status_code == 200
    )
    answer = bob_client.post(f"{url}/new/", {"path": "etl/clean.py", "kind": "file"}, **HTMX)
    assert 'aria-label="Content of /etl/clean.py"' in answer.content.decode()
    bob_client.post(f"{url}/save/", {"path": "etl/clean.py", "content": "print(1)\r\n"}, **HTMX)
    assert file_read("company.data", "etl/clean.py") == b"print(1)\n"
    answer = bob_client.post(f"{url}/rename/", {"path": "etl", "to": "jobs/etl"}, **HTMX)
    assert 'data-path="jobs/etl/clean.py"' in answer.content.decode()
    assert file_read("company.data", "jobs/etl/clean.py") == b"print(1)\n"
    bob_client.post(f"{url}/delete/", {"path": "jobs"}, **HTMX)
    assert entry_get("company.data", "jobs/etl/clean.py") is None


@pytest.mark.parametrize(
    ("action", "form", "expected"),
    [
        ("new", {"path": "../escape.py", "kind": "file"}, "must not contain &#x27;..&#x27;"),
        ("new", {"path": "a.txt", "kind": "file"}, "/a.txt already exists"),
        ("rename", {"path": "a.txt", "to": "/"}, "A file path is required"),
        ("delete", {"path": "ghost.txt"}, "No file or folder /ghost.txt"),
    ],
)
def test_a_refused_file_action_answers_422_naming_the_path(
    bob_client, action, form, expected
) -> None:
    file_write(namespace="company.data", path="a.txt", content=b"a")
    answer = bob_client.post(f"/namespaces/company.data/files/{action}/", form, **HTMX)
    assert answer.status_code == 422
    assert expected in answer.content.decode()


def test_the_flow_editor_loads_the_file_tree_beside_it(client, alice) -> None:
    Flow.save_source("id: f\nnamespace: dev\ntasks:\n  - id: a\n    type: Log\n    message: hi\n")
    client.login(username="alice", password=PASSWORD)
    page = client.get("/flows/dev/f/").content.decode()
    assert 'hx-get="/namespaces/dev/files/"' in page and "Namespace files of dev" in page


def test_what_people_change_is_audited_without_its_values(bob_client) -> None:
    bob_client.post(
        "/namespaces/company.data/kv/", {"key": "token_hint", "type": "STRING", "value": "s3cr3t"}
    )
    bob_client.post("/namespaces/company.data/kv/token_hint/delete/")
    bob_client.post("/namespaces/company.data/files/new/", {"path": "a/b.sql", "kind": "file"})
    bob_client.post("/namespaces/company.data/files/rename/", {"path": "a", "to": "c"})
    bob_client.post("/namespaces/company.data/files/delete/", {"path": "c"})
    entries = AuditEntry.objects.filter(namespace="company.data").order_by("id")
    assert [(e.actor_name, e.action, e.object_type, e.object_id) for e in entries] == [
        ("bob", "created", "kv", "token_hint"),
        ("bob", "deleted", "kv", "token_hint"),
        ("bob", "created", "file", "/a/b.sql"),
        ("bob", "moved", "file", "/a"),
        ("bob", "deleted", "file", "/c"),
    ]
    assert not any("s3cr3t" in e.summary + e.diff for e in entries)
    assert entries[3].summary == "to /c"

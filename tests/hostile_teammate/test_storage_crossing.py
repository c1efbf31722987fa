"""bob (Editor of company.data) aims at alice's dev KV store and namespace files from a
running flow: the kv tasks, kv('key', 'dev'), read('path', 'dev') and the namespace file
tasks. Each is refused on a real worker, saying how to allow it, and leaves dev as it
was, until alice allows company.data on dev. charlie, with no role, sees none of it by
page or API."""

from __future__ import annotations

from typing import Any

import pytest

from executions.models import State
from namespaces.files import entry_get, file_read, file_write
from namespaces.kv import kv_set, kv_typed, kv_value
from namespaces.models import KeyValue
from tests.flows_helpers import messages

from .helpers import REFUSAL, alice_allows, as_user, bob_runs, bob_saves, failure

pytestmark = pytest.mark.django_db(transaction=True)

DOING = "namespace company.data may not reach the KV store and files of dev; " + REFUSAL


@pytest.fixture
def dev_store(alice: Any, bob: Any, charlie: Any) -> None:
    """alice's dev holds a KV entry and a file; bob and charlie are around."""
    kv_set(namespace="dev", key="db_password_hint", typed=kv_typed("starts with x", None))
    file_write(namespace="dev", path="etl/secret.sql", content=b"SELECT private")


def bob_flow(tasks: str, flow_id: str = "reach") -> str:
    return f"id: {flow_id}\nnamespace: company.data\ntasks:\n{tasks}"


READS = {
    "kv-get": "  - id: t\n    type: io.kestra.plugin.core.kv.Get\n    namespace: dev\n"
    "    key: db_password_hint\n",
    "kv-getkeys": "  - id: t\n    type: io.kestra.plugin.core.kv.GetKeys\n    namespace: dev\n",
    "kv-function": "  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
    "    message: \"{{ kv('db_password_hint', 'dev') }}\"\n",
    "read-function": "  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
    "    message: \"{{ read('etl/secret.sql', 'dev') }}\"\n",
    "download-files": "  - id: t\n    type: io.kestra.plugin.core.namespace.DownloadFiles\n"
    "    namespace: dev\n    files: '**'\n",
}
WRITES = {
    "kv-set": "  - id: t\n    type: io.kestra.plugin.core.kv.Set\n    namespace: dev\n"
    "    key: db_password_hint\n    value: overwritten\n",
    "kv-delete": "  - id: t\n    type: io.kestra.plugin.core.kv.Delete\n    namespace: dev\n"
    "    key: db_password_hint\n",
    "delete-files": "  - id: t\n    type: io.kestra.plugin.core.namespace.DeleteFiles\n"
    "    namespace: dev\n    files: '**'\n",
}


@pytest.mark.parametrize("name", [*READS, *WRITES])
def test_bobs_flow_cannot_reach_devs_kv_store_or_files(worker, dev_store, name) -> None:
    tasks = {**READS, **WRITES}[name]
    execution = bob_runs(bob_saves(bob_flow(tasks)))
    assert execution.state == State.FAILED
    assert DOING in failure(execution)
    assert "starts with x" not in " ".join(messages(execution))
    assert kv_value("dev", "db_password_hint").value == "starts with x"
    assert file_read("dev", "etl/secret.sql") == b"SELECT private"


def test_bobs_flow_reaches_dev_once_alice_allows_company_data(worker, dev_store) -> None:
    alice_allows("company.data")
    tasks = (
        READS["kv-function"]
        + READS["read-function"].replace("id: t", "id: r")
        + WRITES["kv-set"].replace("id: t", "id: s")
    )
    execution = bob_runs(bob_saves(bob_flow(tasks)))
    assert execution.state == State.SUCCESS, failure(execution)
    assert messages(execution)[:2] == ["starts with x", "SELECT private"]
    assert kv_value("dev", "db_password_hint").value == "overwritten"


def test_a_flow_reaches_the_kv_store_of_a_namespace_inside_its_own(worker, dev_store) -> None:
    execution = bob_runs(
        bob_saves(
            bob_flow(
                "  - id: t\n    type: io.kestra.plugin.core.kv.Set\n"
                "    namespace: company.data.etl\n    key: k\n    value: v\n"
            )
        )
    )
    assert execution.state == State.SUCCESS, failure(execution)
    assert KeyValue.objects.get(namespace="company.data.etl", key="k").value == "v"


ENDPOINTS = [
    ("get", "/api/v1/namespaces/dev/kv"),
    ("get", "/api/v1/namespaces/dev/kv/db_password_hint"),
    ("put", "/api/v1/namespaces/dev/kv/db_password_hint"),
    ("delete", "/api/v1/namespaces/dev/kv/db_password_hint"),
    ("get", "/api/v1/namespaces/dev/files?path=etl/secret.sql"),
    ("get", "/api/v1/namespaces/dev/files/directory"),
    ("get", "/api/v1/namespaces/dev/files/export"),
    ("delete", "/api/v1/namespaces/dev/files?path=etl"),
    ("get", "/namespaces/dev/kv/"),
    ("get", "/namespaces/dev/files/?path=etl/secret.sql"),
    ("post", "/namespaces/dev/files/save/"),
    ("post", "/namespaces/dev/kv/db_password_hint/delete/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_people_without_a_role_on_dev_neither_see_nor_change_it(
    dev_store, client, method, url, who
) -> None:
    if url.startswith("/api/"):
        asker = as_user(who)
    else:
        client.login(username=who, password="correct horse battery staple")
        asker = client
    if method == "post":
        answer = asker.post(url, data={"path": "etl/secret.sql", "content": "changed"})
    elif method == "get":
        answer = asker.get(url)
    else:
        answer = getattr(asker, method)(url, data='"changed"', content_type="text/plain")
    assert answer.status_code == 404
    assert b"starts with x" not in answer.content and b"SELECT private" not in answer.content
    assert kv_value("dev", "db_password_hint").value == "starts with x"
    assert entry_get("dev", "etl/secret.sql") is not None
    assert file_read("dev", "etl/secret.sql") == b"SELECT private"

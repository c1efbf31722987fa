"""kestrapy, Kestra's official Python client, drives a live Flowsite (daphne on the test
database) through every KV and namespace file call it offers.

kestrapy 2.x calls Kestra 1.x's tenant paths (``/api/v1/main/...``), served by
flowsite/api_paths.py for every endpoint, these included: nothing is rewritten here.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.personas import PASSWORD, make_alice, make_bob, make_charlie

kestrapy = pytest.importorskip("kestrapy")
from kestrapy.exceptions import NotFoundException  # noqa: E402
from kestrapy.models.kv_controller_api_delete_bulk_request import (  # noqa: E402
    KVControllerApiDeleteBulkRequest,
)
from kestrapy.models.query_filter import QueryFilter  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)
TENANT = "main"


def tenant_paths_exist(server_url: str) -> bool:
    answer = requests.get(
        f"{server_url}/api/v1/{TENANT}/namespaces/dev/kv", auth=("alice", PASSWORD), timeout=10
    )
    return answer.headers.get("Content-Type", "").startswith("application/json")


def client_for(server_url: str, username: str) -> Any:
    return kestrapy.KestraClient(host=server_url, username=username, password=PASSWORD)


@pytest.fixture(autouse=True)
def fast_passwords() -> None:
    """Keeps the real hashers: the daphne process must verify the personas' passwords."""


@pytest.fixture
def kestra(server_url: str) -> Iterator[Any]:
    make_alice(), make_bob(), make_charlie()
    yield client_for(server_url, "alice")


def test_kestrapy_sets_reads_lists_and_deletes_kv_entries(kestra: Any) -> None:
    kv = kestra.kv
    kv.set_key_value("dev", "greeting", TENANT, '"hello"')
    kv.set_key_value("dev", "retries", TENANT, "3")
    kv.set_key_value("dev", "settings", TENANT, '{"region": "eu"}')
    kv.set_key_value("dev", "since", TENANT, "2026-11-30T10:00:00Z")
    detail = kv.key_value("dev", "greeting", TENANT)
    assert (detail.type.value, detail.value, detail.revision) == ("STRING", "hello", 1)
    assert kv.key_value("dev", "retries", TENANT).value == 3
    assert kv.key_value("dev", "settings", TENANT).type.value == "JSON"
    assert kv.key_value("dev", "since", TENANT).type.value == "DATETIME"
    listed = kv.list_all_keys(
        TENANT,
        filters=[
            QueryFilter.from_dict({"field": "namespace", "operation": "EQUALS", "value": "dev"})
        ],
    )
    assert listed.total == 4
    assert sorted(e.key for e in listed.results) == ["greeting", "retries", "settings", "since"]
    assert all(e.namespace == "dev" for e in listed.results)
    assert kv.delete_key_value("dev", "greeting", TENANT) is True
    assert kv.delete_key_value("dev", "greeting", TENANT) is False
    bulk = kv.delete_key_values(
        "dev", TENANT, KVControllerApiDeleteBulkRequest(keys=["retries", "nothing"])
    )
    assert bulk.keys == ["retries"]
    with pytest.raises(NotFoundException):
        kv.key_value("dev", "greeting", TENANT)


def test_kestrapy_lists_kv_entries_with_their_parents(kestra: Any) -> None:
    kestra.kv.set_key_value("company", "region", TENANT, '"eu"')
    kestra.kv.set_key_value("company.team", "tier", TENANT, '"gold"')
    entries = kestra.kv.list_keys_with_inheritance("company.team", TENANT)
    assert [(e.key, e.namespace) for e in entries] == [
        ("region", "company"),
        ("tier", "company.team"),
    ]


def test_kestrapy_manages_namespace_files_and_folders(kestra: Any) -> None:
    files = kestra.files
    files.create_namespace_directory("dev", TENANT, path="/scripts")
    files.create_namespace_file("dev", "/scripts/clean.py", TENANT, file_content=b"print(1)\n")
    files.create_namespace_file("dev", "/empty.txt", TENANT)
    listed = files.list_namespace_directory_files("dev", TENANT)
    assert sorted((a.file_name, a.type.value) for a in listed) == [
        ("empty.txt", "File"),
        ("scripts", "Directory"),
    ]
    assert files.file_content("dev", "/scripts/clean.py", TENANT) == b"print(1)\n"
    meta = files.file_metadatas("dev", TENANT, path="/scripts/clean.py")
    assert (meta.file_name, meta.size, meta.type.value) == ("clean.py", 9, "File")
    assert [r.revision for r in files.file_revisions("dev", TENANT, path="/scripts/clean.py")] == [
        1
    ]
    assert files.search_namespace_files("dev", "clean", TENANT) == ["/scripts/clean.py"]
    files.move_file_directory("dev", "/scripts", "/jobs", TENANT)
    assert files.file_content("dev", "/jobs/clean.py", TENANT) == b"print(1)\n"
    archive = zipfile.ZipFile(io.BytesIO(files.export_namespace_files("dev", TENANT)))
    assert "jobs/clean.py" in archive.namelist()
    files.delete_file_directory("dev", "/jobs", TENANT)
    with pytest.raises(NotFoundException):
        files.file_content("dev", "/jobs/clean.py", TENANT)


def test_kestrapy_as_charlie_finds_neither_the_kv_store_nor_the_files(
    kestra: Any, server_url: str
) -> None:
    kestra.kv.set_key_value("dev", "private", TENANT, '"alice only"')
    kestra.files.create_namespace_file("dev", "/private.txt", TENANT, file_content=b"alice")
    charlie = client_for(server_url, "charlie")
    for call in (
        lambda: charlie.kv.key_value("dev", "private", TENANT),
        lambda: charlie.kv.set_key_value("dev", "private", TENANT, '"charlie was here"'),
        lambda: charlie.kv.delete_key_value("dev", "private", TENANT),
        lambda: charlie.files.file_content("dev", "/private.txt", TENANT),
        lambda: charlie.files.delete_file_directory("dev", "/private.txt", TENANT),
        lambda: charlie.files.list_namespace_directory_files("dev", TENANT),
    ):
        with pytest.raises(NotFoundException):
            call()
    assert charlie.kv.list_all_keys(TENANT).total == 0
    assert kestra.kv.key_value("dev", "private", TENANT).value == "alice only"
    assert kestra.files.file_content("dev", "/private.txt", TENANT) == b"alice"


def test_kestrapy_as_bob_works_in_company_data_only(kestra: Any, server_url: str) -> None:
    bob = client_for(server_url, "bob")
    bob.kv.set_key_value("company.data", "owner", TENANT, '"bob"')
    bob.files.create_namespace_file("company.data", "/q.sql", TENANT, file_content=b"select 1")
    assert bob.kv.key_value("company.data", "owner", TENANT).value == "bob"
    with pytest.raises(NotFoundException):
        bob.kv.set_key_value("dev", "owner", TENANT, '"bob"')
    with pytest.raises(NotFoundException):
        bob.files.create_namespace_file("dev", "/q.sql", TENANT, file_content=b"x")


def test_the_tenant_paths_answer_kestrapy_without_a_client_side_strip(
    kestra: Any, server_url: str
) -> None:
    assert tenant_paths_exist(server_url)

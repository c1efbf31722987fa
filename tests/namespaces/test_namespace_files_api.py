"""Kestra's namespace file endpoints on their tenant-less paths, as plain HTTP clients
call them: upload, list, stats, move, delete, search, export, and safe paths."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from namespaces.files import FILE_MAX_BYTES, FilesError, file_path_check, file_read
from namespaces.models import NamespaceFile
from tests.conftest import basic_auth

pytestmark = pytest.mark.django_db

BASE = "/api/v1/namespaces/company.data/files"


@pytest.fixture
def bob_api(client: Client, bob: Any) -> Client:
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth("bob")
    return client


def upload(client: Client, path: str, content: bytes, name: str = "file") -> Any:
    return client.post(
        f"{BASE}?path={path}", data={"fileContent": SimpleUploadedFile(name, content)}
    )


def names(answer: Any) -> list[tuple[str, str]]:
    return [(a["fileName"], a["type"]) for a in answer.json()]


def test_an_uploaded_file_reads_back_and_its_folders_appear(bob_api) -> None:
    assert upload(bob_api, "/scripts/etl/clean.py", b"print('clean')\n").status_code == 200
    answer = bob_api.get(BASE, {"path": "/scripts/etl/clean.py"})
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/octet-stream"
    assert answer.content == b"print('clean')\n"
    assert names(bob_api.get(f"{BASE}/directory")) == [("scripts", "Directory")]
    assert names(bob_api.get(f"{BASE}/directory", {"path": "/scripts"})) == [("etl", "Directory")]
    stats = bob_api.get(f"{BASE}/stats", {"path": "/scripts/etl/clean.py"}).json()
    assert (stats["fileName"], stats["type"], stats["size"]) == ("clean.py", "File", 15)
    assert stats["lastModifiedTime"] > 0 and stats["creationTime"] > 0
    assert bob_api.get(f"{BASE}/stats").json()["type"] == "Directory"  # the root


def test_a_second_upload_replaces_the_file(bob_api) -> None:
    upload(bob_api, "notes.txt", b"one")
    upload(bob_api, "notes.txt", b"two")
    assert bob_api.get(BASE, {"path": "notes.txt"}).content == b"two"
    assert bob_api.get(f"{BASE}/revisions", {"path": "notes.txt"}).json() == [{"revision": 2}]
    assert bob_api.get(BASE, {"path": "notes.txt", "revision": "2"}).content == b"two"
    older = bob_api.get(BASE, {"path": "notes.txt", "revision": "1"})
    assert older.status_code == 404
    assert older.json()["message"] == "No revision 1 of /notes.txt in namespace company.data"


def test_a_folder_is_created_moved_and_deleted_with_what_it_holds(bob_api) -> None:
    assert bob_api.post(f"{BASE}/directory?path=/empty").status_code == 200
    upload(bob_api, "src/a.sql", b"select 1")
    upload(bob_api, "src/deep/b.sql", b"select 2")
    assert bob_api.put(f"{BASE}?from=/src&to=/lib/sql").status_code == 200
    assert bob_api.get(BASE, {"path": "lib/sql/deep/b.sql"}).content == b"select 2"
    assert bob_api.get(BASE, {"path": "src/a.sql"}).status_code == 404
    assert names(bob_api.get(f"{BASE}/directory")) == [("empty", "Directory"), ("lib", "Directory")]
    assert bob_api.delete(f"{BASE}?path=/lib").status_code == 200
    assert not NamespaceFile.objects.filter(path__startswith="lib").exists()


def test_search_finds_paths_and_export_zips_every_file(bob_api) -> None:
    upload(bob_api, "a/report.sql", b"1")
    upload(bob_api, "b/other.py", b"2")
    assert bob_api.get(f"{BASE}/search", {"q": "report"}).json() == ["/a/report.sql"]
    archive = zipfile.ZipFile(io.BytesIO(bob_api.get(f"{BASE}/export").content))
    assert sorted(n for n in archive.namelist() if not n.endswith("/")) == [
        "a/report.sql",
        "b/other.py",
    ]
    assert archive.read("b/other.py") == b"2"


def test_a_zip_upload_is_unpacked_by_path(bob_api) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("dbt/models/a.sql", "select a")
        archive.writestr("README.md", "hi")
    assert upload(bob_api, "/", buffer.getvalue(), name="project.zip").status_code == 200
    assert file_read("company.data", "dbt/models/a.sql") == b"select a"


@pytest.mark.parametrize(
    ("method", "query", "expected"),
    [
        ("get", "?path=../company/secret.txt", "must not contain '..'"),
        ("get", "?path=a/./b", "must not contain '..', '.'"),
        ("get", "?path=a\\b", "contains a backslash"),
        ("post", "?path=x/../../y", "must not contain '..'"),
        ("put", "?from=a.txt&to=../b.txt", "must not contain '..'"),
        ("delete", "?path=..", "must not contain '..'"),
        ("get", "", "The query parameter 'path' is required"),
        ("put", "?from=a.txt", "The query parameter 'to' is required"),
    ],
)
def test_a_path_leaving_the_namespace_is_a_400_saying_why(bob_api, method, query, expected) -> None:
    upload(bob_api, "a.txt", b"a")
    answer = getattr(bob_api, method)(BASE + query)
    assert answer.status_code == 400
    assert expected in answer.json()["message"]


@pytest.mark.parametrize(
    ("action", "expected_status", "expected"),
    [
        (lambda c: c.get(BASE, {"path": "none.txt"}), 404, "No file /none.txt in namespace"),
        (lambda c: c.get(f"{BASE}/directory", {"path": "a.txt"}), 404, "No folder /a.txt"),
        (lambda c: upload(c, "a.txt/inner", b"x"), 400, "/a.txt is a file, not a folder"),
        (lambda c: c.put(f"{BASE}?from=a.txt&to=b.txt"), 400, "/b.txt already exists"),
        (lambda c: c.put(f"{BASE}?from=d&to=d/e"), 400, "into itself"),
    ],
)
def test_an_impossible_file_operation_says_why(bob_api, action, expected_status, expected) -> None:
    upload(bob_api, "a.txt", b"a")
    upload(bob_api, "b.txt", b"b")
    bob_api.post(f"{BASE}/directory?path=d")
    answer = action(bob_api)
    assert answer.status_code == expected_status
    assert expected in answer.json()["message"]


def test_a_file_over_the_size_bound_is_refused(bob_api) -> None:
    answer = upload(bob_api, "big.bin", b"x" * (FILE_MAX_BYTES + 1))
    assert answer.status_code == 400
    assert "larger than" in answer.json()["message"]
    assert not NamespaceFile.objects.filter(path="big.bin").exists()


def test_files_of_one_namespace_are_not_those_of_another(alice, bob_api) -> None:
    upload(bob_api, "shared.txt", b"company.data's")
    assert (
        Client()
        .get("/api/v1/namespaces/dev/files?path=shared.txt", HTTP_AUTHORIZATION=basic_auth("alice"))
        .status_code
        == 404
    )
    assert bob_api.get("/api/v1/namespaces/dev/files/directory").status_code == 404


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab./\\\x00 ~"), max_size=16))
def test_any_path_is_refused_with_a_reason_or_stays_inside(path: str) -> None:
    try:
        cleaned = file_path_check(path)
    except FilesError as exc:
        assert str(exc)
        return
    parts = cleaned.split("/")
    assert not cleaned.startswith("/") and ".." not in parts and "" not in parts
    assert "\\" not in cleaned and "\x00" not in cleaned

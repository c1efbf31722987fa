"""Downloading an execution's output files: from its page, and by Kestra's REST paths
``/api/v1/executions/{id}/file?path=`` and ``/api/v1/executions/{id}/file/metas?path=``."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

import pytest

from executions.models import Execution, State
from executions.storage import storage_uri
from tests.conftest import basic_auth
from tests.flows_helpers import PROCESS, flow_yaml, messages, run_here, save_flow

pytestmark = pytest.mark.django_db

BINARY = bytes(range(256))
MAKE_FILES = f"""\
- id: make
  type: io.kestra.plugin.scripts.python.Script
  taskRunner: {{type: {PROCESS}}}
  outputFiles: ["*.csv", "out/**"]
  script: |
    import os
    os.makedirs("out/deep", exist_ok=True)
    open("report.csv", "w").write("name,rows\\nsales,3\\n")
    open("out/deep/blob.bin", "wb").write(bytes(range(256)))
"""


def produce(flow_id: str = "files", namespace: str = "company.data") -> Execution:
    execution = run_here(save_flow(flow_yaml(MAKE_FILES, flow_id=flow_id, namespace=namespace)))
    assert execution.state == State.SUCCESS, messages(execution)
    return execution


def uri_of(execution: Execution, name: str) -> str:
    return execution.task_runs.get().outputs["outputFiles"][name]


def file_url(execution: Execution, uri: str, *, metas: bool = False) -> str:
    return f"/api/v1/executions/{execution.pk}/file{'/metas' if metas else ''}?path={quote(uri)}"


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_the_execution_page_lists_each_file_with_its_task_and_downloads_it(
    client: Any, alice: Any
) -> None:
    execution = produce()
    client.force_login(alice)
    page = client.get(f"/executions/{execution.pk}/").content.decode()
    rows = re.findall(r'<tr data-file="([^"]+)">\s*<td><a href="([^"]+)"', page)
    links = {name: html.unescape(href) for name, href in rows}
    assert sorted(links) == ["out/deep/blob.bin", "report.csv"]
    assert re.search(r"<td>make</td>\s*<td>256.bytes</td>", page)  # the task, the size
    report = client.get(links["report.csv"])
    assert report.status_code == 200
    assert body(report) == b"name,rows\nsales,3\n"
    assert report["Content-Disposition"] == 'attachment; filename="report.csv"'
    blob = client.get(links["out/deep/blob.bin"])
    assert body(blob) == BINARY
    assert blob["Content-Disposition"] == 'attachment; filename="blob.bin"'


def test_the_api_downloads_a_file_by_its_storage_uri(api: Any) -> None:
    execution = produce()
    response = api.get(file_url(execution, uri_of(execution, "out/deep/blob.bin")))
    assert response.status_code == 200
    assert body(response) == BINARY
    assert response["Content-Disposition"] == 'attachment; filename="blob.bin"'
    metas = api.get(file_url(execution, uri_of(execution, "report.csv"), metas=True))
    assert metas.json() == {"size": len(b"name,rows\nsales,3\n")}


def test_a_file_of_another_execution_is_not_found_through_this_one(api: Any) -> None:
    mine, other = produce(), produce(flow_id="other")
    stolen = uri_of(other, "report.csv")
    assert api.get(file_url(other, stolen)).status_code == 200  # alice may see it there
    for metas in (False, True):
        response = api.get(file_url(mine, stolen, metas=metas))
        assert response.status_code == 404
        assert response.json() == {"message": f"No such file in execution {mine.pk}"}


@pytest.mark.parametrize(
    "path",
    [
        "kestra:///company/data/files/executions/{id}/tasks/../../../other/x.csv",
        "kestra:///company/data/files/executions/{id}/tasks//x.csv",
        "kestra:////etc/passwd",
        "file:///etc/passwd",
        "/etc/passwd",
    ],
)
def test_a_path_that_could_leave_the_storage_is_refused(api: Any, path: str) -> None:
    execution = produce()
    response = api.get(file_url(execution, path.format(id=execution.pk)))
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid path: ")


def test_the_page_refuses_a_traversing_path_with_the_reason(client: Any, alice: Any) -> None:
    execution = produce()
    client.force_login(alice)
    path = f"kestra:///company/data/files/executions/{execution.pk}/../../x"
    response = client.get(f"/executions/{execution.pk}/file/?path={quote(path)}")
    assert response.status_code == 400
    assert "must not contain '..'" in response.content.decode()


def test_a_missing_path_or_a_missing_file_is_answered_clearly(api: Any) -> None:
    execution = produce()
    missing = api.get(f"/api/v1/executions/{execution.pk}/file")
    assert missing.status_code == 400
    assert missing.json() == {"message": "The path parameter is required: path=kestra:///..."}
    gone = storage_uri(execution, execution.task_runs.get(), "never-made.csv")
    assert api.get(file_url(execution, gone)).status_code == 404


def test_only_viewers_of_the_namespace_may_download(
    client: Any, alice: Any, bob: Any, charlie: Any
) -> None:
    execution = produce()
    url = file_url(execution, uri_of(execution, "report.csv"))
    answers = {}
    for name in ("alice", "bob", "charlie"):
        client.defaults["HTTP_AUTHORIZATION"] = basic_auth(name)
        answers[name] = client.get(url).status_code
    assert answers == {"alice": 200, "bob": 200, "charlie": 404}
    del client.defaults["HTTP_AUTHORIZATION"]
    assert client.get(url).status_code == 401
    client.force_login(charlie)
    assert client.get(f"/executions/{execution.pk}/file/?path=x").status_code == 404


@pytest.mark.docker
def test_a_container_tasks_files_go_in_and_come_back_out_for_download(
    api: Any, docker_engine: Any
) -> None:
    tasks = """\
    - id: convert
      type: io.kestra.plugin.scripts.python.Script
      containerImage: python:3.11-slim
      taskRunner:
        type: io.kestra.plugin.scripts.runner.docker.Docker
        pullPolicy: NEVER
      inputFiles:
        names.txt: |
          ada
          grace
      outputFiles: ["out/*.csv"]
      script: |
        import os
        os.makedirs("out", exist_ok=True)
        names = open("names.txt").read().split()
        open("out/names.csv", "w").write("name\\n" + "\\n".join(names) + "\\n")
    """
    execution = run_here(save_flow(flow_yaml(tasks, flow_id="files-docker", namespace="dev")))
    assert execution.state == State.SUCCESS, messages(execution)
    response = api.get(file_url(execution, uri_of(execution, "out/names.csv")))
    assert body(response) == b"name\nada\ngrace\n"

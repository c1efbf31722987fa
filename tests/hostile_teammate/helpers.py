"""bob, the hostile teammate, at work: flows he saves and runs through the REST API as
anyone would, and alice's namespace ``dev`` that he aims at."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from executions.lifecycle import execution_start
from executions.models import Execution
from flows.models import Flow
from tests.conftest import basic_auth
from tests.flows_helpers import finished

REFUSAL = "an Admin of dev can allow it on dev's Access page"

# alice's flow in dev: it publishes an output and keeps an uploaded file.
DEV_TARGET = """id: target
namespace: dev
inputs:
  - id: doc
    type: FILE
    required: false
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: dev ran
outputs:
  - id: word
    type: STRING
    value: dev-private-word
"""


def as_user(username: str) -> Client:
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth(username)
    return client


def bob_saves(source: str) -> Flow:
    """bob saves a flow through the API, as an Editor of company.data may."""
    answer = as_user("bob").post("/api/v1/flows", data=source, content_type="application/x-yaml")
    assert answer.status_code == 200, answer.content
    flow = Flow.objects.live().get(namespace="company.data", flow_id=answer.json()["id"])
    return flow


def bob_runs(flow: Flow) -> Execution:
    """bob starts his flow through the API and waits for its end."""
    answer = as_user("bob").post(f"/api/v1/executions/{flow.namespace}/{flow.flow_id}")
    assert answer.status_code == 200, answer.content
    return finished(Execution.objects.get(pk=answer.json()["id"]))


def alice_runs_dev_target(*, with_file: bytes | None = None) -> Execution:
    flow = Flow.save_source(DEV_TARGET)
    files: dict[str, Any] = {}
    if with_file is not None:
        files["doc"] = SimpleUploadedFile("private.txt", with_file)
    return finished(execution_start(flow=flow, files=files))


def alice_allows(allowed: str, namespace: str = "dev") -> None:
    answer = as_user("alice").put(f"/api/v1/namespaces/{namespace}/allowed-namespaces/{allowed}")
    assert answer.status_code == 201, answer.content


def failure(execution: Execution) -> str:
    """The errors of ``execution``'s failed task runs, joined."""
    return " | ".join(execution.task_runs.exclude(error="").values_list("error", flat=True))

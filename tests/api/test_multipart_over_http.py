"""Starting an execution through a real web server with the multipart bodies Kestra's
clients send: the empty form included, which Twisted used to answer with a bare 400
before Django saw it (flowsite/web.py says why)."""

from __future__ import annotations

import base64
import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from urllib3 import encode_multipart_formdata

from executions.models import Execution
from tests.flows_helpers import save_flow
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

START = "/api/v1/executions/dev/greet"
GREET = """\
id: greet
namespace: dev
inputs:
  - id: name
    type: STRING
    defaults: world
tasks:
  - id: say
    type: Log
    message: "hello {{ inputs.name }}"
"""


@pytest.fixture
def fast_passwords() -> None:
    """The real hashers: the server, in its own process, checks alice's password."""


@pytest.fixture
def greet(alice: Any) -> None:
    save_flow(GREET)


def auth() -> str:
    return "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()


def post_raw(server_url: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    """One request written by hand, as a client on the wire sends it."""
    address = urlsplit(server_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        headers = {"Content-Type": content_type, "Authorization": auth()}
        connection.request("POST", START, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def started_with(body: bytes) -> dict[str, Any]:
    execution = Execution.objects.get(pk=json.loads(body)["id"])
    return execution.inputs


@pytest.mark.parametrize(
    "body",
    [b"", b"--XyZ--\r\n", b"--XyZ--", b"\r\n--XyZ--\r\n"],
    ids=["no-body", "closing-boundary", "closing-boundary-without-crlf", "preamble-crlf"],
)
def test_an_empty_multipart_form_starts_an_execution_with_the_defaults(
    server_url: str, greet: None, body: bytes
) -> None:
    status, answer = post_raw(server_url, body, "multipart/form-data; boundary=XyZ")
    assert status == 200, answer
    assert started_with(answer) == {"name": "world"}


def test_the_empty_form_urllib3_encodes_starts_an_execution(server_url: str, greet: None) -> None:
    # OpenAPI-generated Python clients encode their forms with urllib3: no fields is the
    # closing boundary alone.
    body, content_type = encode_multipart_formdata({})
    assert body == f"--{content_type.split('=')[1]}--\r\n".encode()
    status, answer = post_raw(server_url, body, content_type)
    assert status == 200, answer
    assert started_with(answer) == {"name": "world"}


def test_multipart_parts_as_kestrapy_sends_them_through_requests_are_inputs(
    server_url: str, greet: None
) -> None:
    # kestrapy 2 builds one (None, text) part per input and posts them with requests.
    response = requests.post(
        server_url + START,
        files=[("name", (None, "ada"))],
        headers={"Authorization": auth()},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert started_with(response.content) == {"name": "ada"}


def test_requests_with_empty_files_and_data_starts_an_execution(
    server_url: str, greet: None
) -> None:
    response = requests.post(
        server_url + START, files={}, data={}, headers={"Authorization": auth()}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert started_with(response.content) == {"name": "world"}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"--XyZ--\r\n", "multipart/form-data"),
        (b"garbage", "multipart/form-data; boundary=\x7f"),
    ],
    ids=["no-boundary", "bad-boundary"],
)
def test_a_malformed_multipart_body_gets_a_400_that_says_why(
    server_url: str, greet: None, body: bytes, content_type: str
) -> None:
    status, answer = post_raw(server_url, body, content_type)
    assert status == 400, answer
    assert b"multipart" in answer.lower()
    assert not Execution.objects.exists()

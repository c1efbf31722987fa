"""http.Request and http.Download on a real worker, against a real HTTP server started by
the test: Kestra's properties and outputs, failures, redirects, timeouts, forms and files."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from executions.lifecycle import execution_start
from executions.models import Execution, LogLine, State, TaskRun
from executions.storage import storage_read
from tests.executions.http_server import ORDERS_CSV, http_server
from tests.flows_helpers import PROCESS, finished, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with http_server() as url:
        yield url


def run(tasks: str, *, flow_id: str, inputs: dict | None = None) -> Execution:
    source = f"id: {flow_id}\nnamespace: company.team\ntasks:\n{tasks}"
    return finished(execution_start(flow=save_flow(source), inputs=inputs))


def task(execution: Execution, task_id: str) -> TaskRun:
    return execution.task_runs.get(task_id=task_id)


def test_a_request_keeps_the_code_headers_and_body_as_kestra_does(worker, site) -> None:
    execution = run(
        f"""
  - id: status
    type: io.kestra.plugin.core.http.Request
    uri: {site}/status.json
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "state={{{{ json(outputs.status.body).state }}}} code={{{{ outputs.status.code }}}}"
""",
        flow_id="http-get",
    )
    assert execution.state == State.SUCCESS, messages(execution)
    outputs = task(execution, "status").outputs
    assert outputs["code"] == 200
    assert outputs["uri"] == f"{site}/status.json"
    assert json.loads(outputs["body"]) == {"state": "green", "orders": 3}
    assert outputs["headers"]["X-Served-By"] == ["test-server"]
    assert "state=green code=200" in messages(execution)


def test_a_post_sends_its_body_content_type_headers_and_basic_auth(worker, site) -> None:
    execution = run(
        f"""
  - id: send
    type: io.kestra.plugin.core.http.Request
    uri: {site}/echo
    method: POST
    contentType: application/json
    body: '{{"title": "Flowsite pen"}}'
    headers:
      X-Custom: "{{{{ flow.id }}}}"
    options:
      basicAuthUser: alice
      basicAuthPassword: s3cret
""",
        flow_id="http-post",
    )
    assert execution.state == State.SUCCESS, messages(execution)
    echoed = json.loads(task(execution, "send").outputs["body"])
    assert echoed["method"] == "POST"
    assert echoed["contentType"] == "application/json"
    assert json.loads(echoed["body"]) == {"title": "Flowsite pen"}
    assert echoed["custom"] == "http-post"
    assert echoed["authorization"] == "Basic YWxpY2U6czNjcmV0"  # alice:s3cret


def test_form_data_is_sent_url_encoded_or_as_multipart_with_a_stored_file(worker, site) -> None:
    execution = run(
        f"""
  - id: export
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: {PROCESS}
    outputFiles: ["rows.csv"]
    commands:
      - printf 'a,b\\n1,2\\n' > rows.csv
  - id: form
    type: io.kestra.plugin.core.http.Request
    uri: {site}/echo
    method: POST
    formData:
      user: John Doe
      count: 3
  - id: upload
    type: io.kestra.plugin.core.http.Request
    uri: {site}/echo
    method: POST
    contentType: multipart/form-data
    formData:
      note: quarterly
      data: "{{{{ outputs.export.outputFiles['rows.csv'] }}}}"
      renamed:
        name: my-file.csv
        content: "{{{{ outputs.export.outputFiles['rows.csv'] }}}}"
""",
        flow_id="http-forms",
    )
    assert execution.state == State.SUCCESS, messages(execution)
    form = json.loads(task(execution, "form").outputs["body"])
    assert form["contentType"] == "application/x-www-form-urlencoded"
    assert form["body"] == "user=John+Doe&count=3"
    upload = json.loads(task(execution, "upload").outputs["body"])
    assert upload["contentType"].startswith("multipart/form-data; boundary=")
    assert 'name="note"' in upload["body"] and "quarterly" in upload["body"]
    assert 'name="data"; filename="rows.csv"' in upload["body"]
    assert 'name="renamed"; filename="my-file.csv"' in upload["body"]
    assert upload["body"].count("a,b\r\n1,2") == 2 or upload["body"].count("a,b\n1,2") == 2


def test_an_error_code_fails_the_request_unless_failures_are_allowed(worker, site) -> None:
    strict = run(
        f"  - id: get\n    type: io.kestra.plugin.core.http.Request\n    uri: {site}/status/404\n",
        flow_id="http-404",
    )
    assert strict.state == State.FAILED
    assert "failed with response code 404" in task(strict, "get").error
    lenient = run(
        f"  - id: get\n    type: io.kestra.plugin.core.http.Request\n"
        f"    uri: {site}/status/503\n    allowFailed: true\n",
        flow_id="http-503-allowed",
    )
    assert lenient.state == State.SUCCESS
    assert task(lenient, "get").outputs["code"] == 503
    assert task(lenient, "get").outputs["body"] == "answered 503"


def test_redirects_are_followed_unless_the_options_say_not_to(worker, site) -> None:
    execution = run(
        f"""
  - id: followed
    type: io.kestra.plugin.core.http.Request
    uri: {site}/moved
  - id: kept
    type: io.kestra.plugin.core.http.Request
    uri: {site}/moved
    options:
      followRedirects: false
""",
        flow_id="http-redirects",
    )
    assert execution.state == State.SUCCESS, messages(execution)
    assert task(execution, "followed").outputs["code"] == 200
    assert "green" in task(execution, "followed").outputs["body"]
    assert task(execution, "kept").outputs["code"] == 302
    assert task(execution, "kept").outputs["headers"]["Location"] == ["/status.json"]


def test_a_read_timeout_fails_the_request_with_a_clear_error(worker, site) -> None:
    execution = run(
        f"  - id: slow\n    type: io.kestra.plugin.core.http.Request\n    uri: {site}/slow\n"
        "    options:\n      readTimeout: PT1S\n",
        flow_id="http-slow",
    )
    assert execution.state == State.FAILED
    assert "timed out" in task(execution, "slow").error.lower()


def test_a_binary_answer_is_refused_by_request_and_kept_by_download(worker, site) -> None:
    execution = run(
        f"""
  - id: as_text
    type: io.kestra.plugin.core.http.Request
    uri: {site}/binary
    allowFailure: true
  - id: as_file
    type: io.kestra.plugin.core.http.Download
    uri: {site}/binary
""",
        flow_id="http-binary",
    )
    assert "the Download task keeps any file" in task(execution, "as_text").error
    stored = task(execution, "as_file").outputs
    assert stored["length"] == 1024
    assert storage_read(stored["uri"]) == bytes(range(256)) * 4


def test_a_download_stores_the_file_and_a_script_reads_it_by_its_uri(worker, site) -> None:
    execution = run(
        f"""
  - id: download
    type: io.kestra.plugin.core.http.Download
    uri: {site}/orders.csv
  - id: named
    type: io.kestra.plugin.core.http.Download
    uri: {site}/export
  - id: count
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: {PROCESS}
    commands:
      - echo "rows=$(tail -n +2 {{{{ outputs.download.uri }}}} | wc -l)"
""",
        flow_id="http-download",
    )
    assert execution.state == State.SUCCESS, messages(execution)
    download = task(execution, "download").outputs
    assert download["code"] == 200 and download["length"] == len(ORDERS_CSV)
    assert download["headers"]["Content-Type"] == ["text/csv"]
    assert download["uri"].startswith("kestra:///company/team/http-download/executions/")
    assert download["uri"].endswith("/orders.csv")
    assert storage_read(download["uri"]) == ORDERS_CSV
    assert task(execution, "named").outputs["uri"].endswith("/monthly report.csv")
    assert "rows=3" in messages(execution)


def test_an_empty_download_fails_unless_told_otherwise(worker, site) -> None:
    execution = run(
        f"""
  - id: strict
    type: io.kestra.plugin.core.http.Download
    uri: {site}/empty
    allowFailure: true
  - id: lenient
    type: io.kestra.plugin.core.http.Download
    uri: {site}/empty
    failOnEmptyResponse: false
""",
        flow_id="http-empty",
    )
    assert "No response from server" in task(execution, "strict").error
    assert task(execution, "strict").state == State.FAILED
    assert task(execution, "lenient").state == State.SUCCESS
    assert task(execution, "lenient").outputs["length"] == 0


def test_a_uri_that_is_not_http_fails_with_its_name(worker) -> None:
    execution = run(
        "  - id: local\n    type: io.kestra.plugin.core.http.Request\n    uri: file:///etc/passwd\n",
        flow_id="http-file-uri",
    )
    assert execution.state == State.FAILED
    assert "uri must be an http:// or https:// URL" in task(execution, "local").error


def test_the_older_plugin_names_run_the_same_tasks(worker, site) -> None:
    execution = run(
        f"""
  - id: old_request
    type: io.kestra.plugin.fs.http.Request
    uri: {site}/status.json
  - id: old_download
    type: io.kestra.plugin.fs.http.Download
    uri: {site}/orders.csv
""",
        flow_id="http-old-names",
    )
    assert execution.state == State.SUCCESS, messages(execution)
    assert task(execution, "old_download").outputs["length"] == len(ORDERS_CSV)


def test_an_encrypted_body_is_stored_encrypted_and_read_in_clear_by_the_next_task(
    worker, site
) -> None:
    execution = run(
        f"""
  - id: status
    type: io.kestra.plugin.core.http.Request
    uri: {site}/status.json
    encryptBody: true
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "state={{{{ json(outputs.status.encryptedBody).state }}}}"
""",
        flow_id="http-encrypted",
    )
    assert execution.state == State.SUCCESS, messages(execution)
    stored = task(execution, "status").outputs
    assert "body" not in stored
    assert stored["encryptedBody"]["type"] == "io.kestra.datatype:aes_encrypted"
    assert "green" not in json.dumps(stored)
    assert "state=green" in messages(execution)


def test_a_text_answer_is_read_as_utf8_unless_it_names_its_charset(worker, site) -> None:
    execution = run(
        f"""
  - id: plain
    type: io.kestra.plugin.core.http.Request
    uri: {site}/unicode
  - id: latin
    type: io.kestra.plugin.core.http.Request
    uri: {site}/latin
""",
        flow_id="http-charsets",
    )
    assert task(execution, "plain").outputs["body"] == "héllo ✓"
    assert task(execution, "latin").outputs["body"] == "héllo"


def test_the_exchange_is_logged_as_the_options_ask(worker, site) -> None:
    execution = run(
        f"""
  - id: traced
    type: io.kestra.plugin.core.http.Request
    uri: {site}/echo
    method: PUT
    body: ping
    headers:
      X-Custom: traced
    options:
      logs: [REQUEST_HEADERS, REQUEST_BODY, RESPONSE_BODY]
""",
        flow_id="http-logs",
    )
    lines = LogLine.objects.filter(execution=execution, level="DEBUG")
    logged = list(lines.values_list("message", flat=True))
    assert any(line.startswith("Request headers: ") and '"X-Custom": "traced"' in line
               for line in logged)  # fmt: skip
    assert "Request body: ping" in logged
    assert any(line.startswith("Response body: ") and '"method": "PUT"' in line for line in logged)
    assert not any(line.startswith("Response headers") for line in logged)


def test_https_to_the_internet_trusts_the_machines_certificates(worker) -> None:
    """PyPI is reached through these machines' TLS-inspecting proxy: only its CA, in the
    host's bundle, makes the certificate check pass (certifi's bundle alone fails)."""
    execution = run(
        "  - id: pypi\n    type: io.kestra.plugin.core.http.Request\n"
        "    uri: https://pypi.org/simple/colorama/\n    allowFailure: true\n"
        "    headers:\n      Accept: application/vnd.pypi.simple.v1+json\n",
        flow_id="https-pypi",
    )
    pypi = task(execution, "pypi")
    assert "CERTIFICATE_VERIFY_FAILED" not in pypi.error
    if pypi.state == State.FAILED and "response code" not in pypi.error:
        pytest.skip(f"PyPI is not reachable from here: {pypi.error}")
    assert pypi.outputs["code"] == 200
    assert json.loads(pypi.outputs["body"])["name"] == "colorama"


def test_a_request_to_flowsites_own_api_carries_no_credentials(worker, server_url, alice) -> None:
    """The worker holds no credentials of Flowsite's: a flow calling its API is an
    anonymous client, refused like any other."""
    execution = run(
        f"  - id: api\n    type: io.kestra.plugin.core.http.Request\n"
        f"    uri: {server_url}/api/v1/executions/search\n    allowFailed: true\n",
        flow_id="http-own-api",
    )
    assert execution.state == State.SUCCESS, messages(execution)
    assert task(execution, "api").outputs["code"] == 401

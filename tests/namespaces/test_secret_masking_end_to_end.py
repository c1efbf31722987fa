"""A secret never appears in a stored or streamed log line, even when the script prints it.

A real worker runs the flows with the Process runner; a real daphne server streams the
lines over the execution's websocket. The secret is set on ``dev`` and the flows live in
``dev.e2e``, so it reaches them by inheritance.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from websockets.sync.client import connect

from executions.lifecycle import execution_start
from executions.models import Execution, LogLine
from flows.models import Flow
from namespaces.masking import MASK
from namespaces.models import Secret

PROCESS = "io.kestra.plugin.core.runner.Process"
SECRET = "sk-live-e2e-5f2c9a71"

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def streamed_lines(server_url: str, execution_id: str, cookie: str) -> list[str]:
    """Every line the execution page receives, from the start until the run ends."""
    url = server_url.replace("http", "ws") + f"/ws/executions/{execution_id}/?after=0"
    headers = {"Origin": server_url, "Cookie": cookie}
    lines: list[str] = []
    with connect(url, additional_headers=headers, open_timeout=10) as socket:
        while True:
            message = json.loads(socket.recv(timeout=60))
            if message["type"] == "logs":
                lines += [line["message"] for line in message["lines"]]
            if message["type"] == "end":
                return lines


def run_followed(server_url: str, alice: Any, tasks: str) -> tuple[Execution, list[str]]:
    Secret.store(namespace="dev", key="API_KEY", value=SECRET, user=alice)
    source = f"id: leaky\nnamespace: dev.e2e\n\ntasks:\n{tasks}"
    execution = execution_start(flow=Flow.save_source(source))
    streamed = streamed_lines(server_url, execution.pk, session_cookie(alice))
    execution.refresh_from_db()
    return execution, streamed


def stored_lines(execution: Execution) -> list[str]:
    lines = LogLine.objects.filter(execution=execution).order_by("id")
    return list(lines.values_list("message", flat=True))


def test_a_secret_rendered_into_a_command_is_masked_in_stored_and_streamed_lines(
    server_url, worker, alice
) -> None:
    execution, streamed = run_followed(
        server_url,
        alice,
        f"""  - id: leak
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: {PROCESS}
    commands:
      - echo "the key is {{{{ secret('API_KEY') }}}}"
      - echo "{{{{ secret('API_KEY') }}}}" >&2
""",
    )
    stored = stored_lines(execution)
    assert f"the key is {MASK}" in stored and MASK in stored
    assert streamed == stored
    assert not [line for line in stored + streamed if SECRET in line]
    assert execution.state in {"SUCCESS", "WARNING"}


def test_a_secret_passed_in_an_environment_variable_is_masked_when_printed(
    server_url, worker, alice
) -> None:
    execution, streamed = run_followed(
        server_url,
        alice,
        f"""  - id: leak
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: {PROCESS}
    env:
      TOKEN: "{{{{ secret('API_KEY') }}}}"
    commands:
      - echo "token=$TOKEN"
      - printf 'split %s in %s\\n' "$TOKEN" "one line"
""",
    )
    stored = stored_lines(execution)
    assert f"token={MASK}" in stored and f"split {MASK} in one line" in stored
    assert streamed == stored
    assert not [line for line in stored + streamed if SECRET in line]
    assert execution.state == "SUCCESS"

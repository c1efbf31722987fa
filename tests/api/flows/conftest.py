"""Kestra's flow endpoints: POST /api/v1/flows and GET|PUT|DELETE /api/v1/flows/{ns}/{id}.

The flows their tests send, and shorthands to send YAML."""

from __future__ import annotations

from typing import Any

import pytest

from flows.models import Flow, FlowRevision

FLOWS = "/api/v1/flows"
HELLO = "/api/v1/flows/dev/hello"

# Comments, blank lines and key order are part of what the user wrote.
HELLO_YAML = """\
# Says hello.
id: hello
namespace: dev

tasks:
  - id: greet   # the only task
    type: io.kestra.plugin.core.log.Log
    message: Hello
"""

HELLO_YAML_V2 = HELLO_YAML.replace("message: Hello", "message: Hello again")

# Line 6, column 16: the second colon of "message: hi: there".
BROKEN_YAML = """\
id: hello
namespace: dev
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    message: hi: there
"""

# Valid YAML, but the task has a misspelt property and lacks the one it needs.
INVALID_FLOW = """\
id: hello
namespace: dev
tasks:
  - id: greet
    type: io.kestra.plugin.core.log.Log
    # "message" is misspelt below
    mesage: Hello
"""


@pytest.fixture
def hello(alice: Any) -> Flow:
    return Flow.save_source(HELLO_YAML, author=alice)


def post_yaml(client: Any, path: str, body: str | bytes, **extra: Any) -> Any:
    return client.post(path, data=body, content_type="application/x-yaml", **extra)


def put_yaml(client: Any, path: str, body: str | bytes, **extra: Any) -> Any:
    return client.put(path, data=body, content_type="application/x-yaml", **extra)


def nothing_is_saved() -> bool:
    return not Flow.objects.exists() and not FlowRevision.objects.exists()

"""The run form as a browser without JavaScript sees it: Run, fill in, start."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from executions.models import Execution
from flows.models import Flow
from tests.personas import PASSWORD

RUN = "/flows/dev/greet/run/"
GREET_YAML = """\
id: greet
namespace: dev
inputs:
  - id: name
    type: STRING
    displayName: Who to greet
    description: A first name is enough
  - id: times
    type: INT
    defaults: 2
  - id: loud
    type: BOOLEAN
    defaults: true
  - id: tags
    type: MULTISELECT
    values: [a, b, c]
    required: false
tasks:
  - id: say
    type: Log
    message: hello
"""


@pytest.fixture
def as_alice(client: Client, alice: Any) -> Client:
    client.login(username=alice.username, password=PASSWORD)
    Flow.save_source(GREET_YAML, author=alice)
    return client


def test_run_on_a_flow_with_inputs_shows_the_form_and_starts_nothing(as_alice: Client) -> None:
    response = as_alice.post(RUN)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Who to greet" in page and "A first name is enough" in page
    assert 'name="times"' in page and 'value="2"' in page
    assert 'type="checkbox" name="loud"' in page and "checked" in page
    assert not Execution.objects.exists()


def test_a_refused_run_form_keeps_what_was_typed_and_says_why(as_alice: Client) -> None:
    sent = {"_run_form": "1", "name": "Ada", "times": "twice", "tags": ["b", "c"]}
    response = as_alice.post(RUN, sent)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Input &#x27;times&#x27; must be an integer, got &#x27;twice&#x27;" in page
    assert 'value="Ada"' in page and 'value="twice"' in page
    assert '<option value="b" selected>' in page
    assert not Execution.objects.exists()


def test_a_valid_run_form_starts_an_execution_with_typed_inputs(as_alice: Client) -> None:
    response = as_alice.post(RUN, {"_run_form": "1", "name": "Ada", "times": "3", "tags": "a"})
    execution = Execution.objects.get()
    assert response.status_code == 302
    assert response["Location"] == execution.get_absolute_url()
    # An unchecked checkbox is false, not the default: the form showed it checked.
    assert execution.inputs == {"name": "Ada", "times": 3, "loud": False, "tags": ["a"]}


def test_a_flow_without_inputs_still_runs_in_one_click(client: Client, alice: Any) -> None:
    client.login(username=alice.username, password=PASSWORD)
    Flow.save_source(
        "id: plain\nnamespace: dev\ntasks:\n  - id: a\n    type: Log\n    message: m\n",
        author=alice,
    )
    response = client.post("/flows/dev/plain/run/")
    assert response.status_code == 302
    assert Execution.objects.get().inputs == {}

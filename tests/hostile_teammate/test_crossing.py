"""bob, an Editor of company.data with no role on dev, tries to reach alice's dev from a
running flow: through a Subflow, a Flow trigger, read(), a kestra:/// URI in inputFiles
or in a subflow's FILE input, a secret. Each is refused on a real django-q2 worker with
a message saying how to allow it, until alice allows company.data on dev."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from executions.lifecycle import execution_start
from executions.models import Execution, State
from flows.models import Flow
from namespaces.models import Secret
from tests.conftest import wait_until
from tests.flows_helpers import finished, messages

from .helpers import (
    DEV_TARGET,
    REFUSAL,
    alice_allows,
    alice_runs_dev_target,
    as_user,
    bob_runs,
    bob_saves,
    failure,
)

pytestmark = pytest.mark.django_db(transaction=True)

CALLER = """id: caller
namespace: company.data
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: dev
    flowId: target
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "got {{ outputs.call.outputs.word }}"
"""

LISTENER = """id: listener
namespace: company.data
tasks:
  - id: heard
    type: io.kestra.plugin.core.log.Log
    message: "heard {{ trigger.outputs.word }}"
triggers:
  - id: on_dev
    type: io.kestra.plugin.core.trigger.Flow
    preconditions:
      id: dev
      flows:
        - namespace: dev
          flowId: target
"""


CHILD = """id: child
namespace: company.data
inputs:
  - id: doc
    type: FILE
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "child read {{ read(inputs.doc) }}"
"""


OWN = """id: own
namespace: company.data
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: mine
"""


def reader(uri: str) -> str:
    return f"""id: reader
namespace: company.data
tasks:
  - id: peek
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ read('{uri}') }}}}"
"""


@pytest.fixture
def people(alice: Any, bob: Any) -> None:
    """alice (Admin of dev) and bob (Editor of company.data)."""


def executions_of(namespace: str, flow_id: str) -> list[Execution]:
    return list(Execution.objects.filter(namespace=namespace, flow_id=flow_id))


def test_bob_cannot_start_a_flow_of_dev_through_a_subflow(worker, people) -> None:
    Flow.save_source(alice_target_source())
    execution = bob_runs(bob_saves(CALLER))
    assert execution.state == State.FAILED
    expected = (
        "Subflow dev.target refused: namespace company.data may not call flows of dev; " + REFUSAL
    )
    assert failure(execution) == expected
    assert expected in messages(execution)
    assert executions_of("dev", "target") == []


def test_a_refused_subflow_says_the_same_whether_or_not_the_flow_exists(worker, people) -> None:
    execution = bob_runs(bob_saves(CALLER.replace("flowId: target", "flowId: nothing-here")))
    assert failure(execution) == (
        "Subflow dev.nothing-here refused: namespace company.data may not call flows of dev; "
        + REFUSAL
    )


def test_bob_calls_dev_once_alice_allows_company_data(worker, people) -> None:
    Flow.save_source(alice_target_source())
    alice_allows("company.data")
    execution = bob_runs(bob_saves(CALLER))
    assert execution.state == State.SUCCESS, failure(execution)
    assert "got dev-private-word" in messages(execution)
    assert [e.state for e in executions_of("dev", "target")] == [State.SUCCESS]


def test_an_allowance_taken_back_while_the_child_runs_withholds_its_outputs(worker, people) -> None:
    Flow.save_source(alice_target_source(sleep="PT2S"))
    alice_allows("company.data")
    flow = bob_saves(CALLER)
    execution = execution_start(flow=flow)
    wait_until(lambda: executions_of("dev", "target"), what="the dev child to start")
    gone = as_user("alice").delete("/api/v1/namespaces/dev/allowed-namespaces/company.data")
    assert gone.status_code == 204
    execution = finished(execution)
    assert execution.state == State.FAILED
    assert failure(execution) == (
        "Subflow dev.target outputs refused: namespace company.data may not call flows of "
        "dev; " + REFUSAL
    )
    assert "dev-private-word" not in str(execution.task_runs.get(task_id="call").outputs)


def test_bob_s_flow_trigger_does_not_hear_dev_until_alice_allows_it(worker, people) -> None:
    listener = bob_saves(LISTENER)
    refusal = (
        "Flow trigger refused: namespace company.data may not hear executions of dev; " + REFUSAL
    )
    assert refusal in flow_page(listener)

    alice_runs_dev_target()
    # The worker's own log says why; bob's flow never starts.
    wait_until(lambda: refusal in worker.log_path.read_text(), what="the refusal in the log")
    assert executions_of("company.data", "listener") == []

    alice_allows("company.data")
    assert refusal not in flow_page(listener)
    alice_runs_dev_target()
    heard = wait_until(
        lambda: executions_of("company.data", "listener"), what="the listener to start"
    )
    assert "heard dev-private-word" in messages(finished(heard[0]))


def test_bob_s_catch_all_flow_trigger_hears_his_own_namespace_but_not_dev(worker, people) -> None:
    eavesdropper = bob_saves(
        """id: eavesdropper
namespace: company.data
tasks:
  - id: heard
    type: io.kestra.plugin.core.log.Log
    message: "heard {{ trigger.namespace }}.{{ trigger.flowId }} {{ trigger.outputs }}"
triggers:
  - id: everything
    type: io.kestra.plugin.core.trigger.Flow
    states: [SUCCESS]
"""
    )
    assert "Flow trigger refused" not in flow_page(eavesdropper)  # it names no namespace
    alice_runs_dev_target()
    own = bob_runs(bob_saves(OWN))
    assert own.state == State.SUCCESS, failure(own)
    heard = wait_until(
        lambda: executions_of("company.data", "eavesdropper"), what="the eavesdropper to start"
    )
    assert [messages(finished(e)) for e in heard] == [["heard company.data.own {}"]]


def test_bob_cannot_read_a_file_of_a_dev_execution(worker, people) -> None:
    dev = alice_runs_dev_target(with_file=b"alice's private notes")
    uri = dev.inputs["doc"]
    execution = bob_runs(bob_saves(reader(uri)))
    assert execution.state == State.FAILED
    assert (
        f"read('{uri}') refused: namespace company.data may not read files of dev; " + REFUSAL
    ) in failure(execution)
    assert "private notes" not in " ".join(messages(execution))

    alice_allows("company.data")
    allowed = bob_runs(Flow.objects.live().get(namespace="company.data", flow_id="reader"))
    assert allowed.state == State.SUCCESS, failure(allowed)
    assert "alice's private notes" in messages(allowed)


def test_bob_cannot_copy_a_dev_file_into_a_task_with_input_files(worker, people) -> None:
    uri = alice_runs_dev_target(with_file=b"alice's private notes").inputs["doc"]
    source = f"""id: copier
namespace: company.data
tasks:
  - id: steal
    type: io.kestra.plugin.scripts.shell.Commands
    inputFiles:
      notes.txt: "{uri}"
    commands: [cat notes.txt]
"""
    execution = bob_runs(bob_saves(source))
    assert execution.state == State.FAILED
    assert failure(execution) == (
        "inputFiles 'notes.txt' refused: namespace company.data may not read files of dev; "
        + REFUSAL
    )


def test_bob_cannot_launder_a_dev_file_through_a_subflow_s_file_input(worker, people) -> None:
    uri = alice_runs_dev_target(with_file=b"alice's private notes").inputs["doc"]
    bob_saves(CHILD)
    parent = f"""id: launder
namespace: company.data
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.data
    flowId: child
    inputs:
      doc: "{uri}"
"""
    execution = bob_runs(bob_saves(parent))
    assert execution.state == State.FAILED
    assert failure(execution) == (
        "Subflow input 'doc' refused: namespace company.data may not read files of dev; " + REFUSAL
    )
    assert executions_of("company.data", "child") == []


def test_a_subflow_reads_the_file_its_caller_passed_down(worker, people) -> None:
    # The other way round must keep working: a caller hands its own file to a child.
    bob_saves(CHILD)
    alice_allows("company.data")
    dev = alice_runs_dev_target(with_file=b"shared on purpose")
    parent = f"""id: relay
namespace: company.data
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.data
    flowId: child
    inputs:
      doc: "{dev.inputs["doc"]}"
"""
    execution = bob_runs(bob_saves(parent))
    assert execution.state == State.SUCCESS, failure(execution)
    child = executions_of("company.data", "child")[0]
    assert "child read shared on purpose" in messages(child)


def test_dev_secrets_never_reach_bob_s_flows_even_when_allowed(worker, people) -> None:
    Secret.store(namespace="dev", key="DEV_TOKEN", value="s3cr3t-of-dev")
    alice_allows("company.data")
    source = """id: thief
namespace: company.data
tasks:
  - id: take
    type: io.kestra.plugin.core.log.Log
    message: "{{ secret('DEV_TOKEN') }}"
"""
    execution = bob_runs(bob_saves(source))
    assert execution.state == State.FAILED
    assert "No secret named 'DEV_TOKEN' in namespace company.data" in failure(execution)
    assert "s3cr3t-of-dev" not in str(list(Execution.objects.values()))


def test_a_dev_webhook_key_starts_nothing_under_bob_s_namespace(worker, people) -> None:
    Flow.save_source(
        alice_target_source()
        + "triggers:\n  - id: hook\n    type: io.kestra.plugin.core.trigger.Webhook\n"
        "    key: dev-hook-key\n"
    )
    answer = Client().post("/api/v1/executions/webhook/company.data/target/dev-hook-key")
    assert answer.status_code == 404
    assert executions_of("company.data", "target") == []


# --- helpers of this module ---------------------------------------------------------


def alice_target_source(sleep: str = "") -> str:
    if not sleep:
        return DEV_TARGET
    return DEV_TARGET.replace(
        "tasks:\n",
        f"tasks:\n  - id: nap\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: {sleep}\n",
    )


def flow_page(flow: Flow) -> str:
    """The flow's page as bob sees it, as text."""
    client = Client()
    client.force_login(get_user_model().objects.get(username="bob"))
    return html.unescape(client.get(flow.get_absolute_url()).content.decode())

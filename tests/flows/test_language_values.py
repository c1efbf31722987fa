"""SECRET inputs, errorLogs(), envs, system labels, numeric task ids, an expression as
Pause's delay, and texts holding several flows."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from executions.jobs import run_task_run
from executions.lifecycle import execution_replay, execution_start
from executions.models import Execution, State
from flows.language import FlowInvalid, parse_flow
from flows.management.commands import load_examples
from flows.models import Flow
from tests.flows_helpers import messages, run_here, save_flow

SECRET_FLOW = """
id: with-secret
namespace: dev
inputs:
  - id: token
    type: SECRET
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "the token is {{ inputs.token }}"
  - id: keep
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.token | length }}:{{ inputs.token }}"
"""


@pytest.mark.django_db(transaction=True)
def test_a_secret_input_is_stored_encrypted_and_hidden_where_the_run_prints_it() -> None:
    flow = save_flow(SECRET_FLOW)
    execution = execution_start(flow=flow, inputs={"token": "hunter2-xyz"})
    stored = Execution.objects.get(pk=execution.pk).inputs["token"]
    assert stored["type"] == "io.kestra.datatype:aes_encrypted"
    assert "hunter2-xyz" not in json.dumps(stored)
    run = run_here_started(execution)
    assert run.state == State.SUCCESS
    assert "the token is ******" in messages(run)
    assert not any("hunter2-xyz" in m for m in messages(run))
    assert run.task_runs.get(task_id="keep").outputs == {"value": "11:******"}


def run_here_started(execution: Execution) -> Execution:
    """Run an execution already started, as a worker would."""
    first = execution.task_runs.order_by("position").first()
    assert first is not None
    run_task_run(first.pk)
    execution.refresh_from_db()
    return execution


@pytest.mark.django_db
def test_a_replay_keeps_the_secret_input_sealed_and_usable() -> None:
    flow = save_flow(SECRET_FLOW)
    first = execution_start(flow=flow, inputs={"token": "s3cr3t"})
    Execution.objects.filter(pk=first.pk).update(state=State.SUCCESS, ended_at=timezone.now())
    replay = execution_replay(execution_id=first.pk)
    assert replay.inputs["token"]["type"] == "io.kestra.datatype:aes_encrypted"
    assert replay.inputs["token"]["value"] != first.inputs["token"]["value"]  # sealed anew


@pytest.mark.django_db(transaction=True)
def test_error_logs_gives_the_errors_branch_what_failed() -> None:
    run = run_here(
        save_flow(
            """
id: with-errors
namespace: dev
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: the disk is full
errors:
  - id: report
    type: io.kestra.plugin.core.log.Log
    message: "{{ errorLogs()[0].taskId }} said: {{ errorLogs()[0].message }}"
"""
        )
    )
    assert run.state == State.FAILED
    assert "boom said: the disk is full" in messages(run)


@pytest.mark.django_db(transaction=True)
def test_envs_reads_only_the_variables_named_for_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWSITE_ENV_REGION", "eu-west")
    monkeypatch.setenv("ENV_PRIVATE", "not for flows")
    run = run_here(
        save_flow(
            """
id: with-envs
namespace: dev
tasks:
  - id: where
    type: io.kestra.plugin.core.log.Log
    message: "region {{ envs.region }}, private {{ envs.private ?? 'unset' }}"
"""
        )
    )
    assert "region eu-west, private unset" in messages(run)


@pytest.mark.django_db(transaction=True)
def test_system_labels_name_the_chain_and_who_started_it(alice: Any) -> None:
    save_flow(
        """
id: child
namespace: dev
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "child of {{ labels.system.correlationId }}"
"""
    )
    parent = save_flow(
        """
id: parent
namespace: dev
tasks:
  - id: me
    type: io.kestra.plugin.core.log.Log
    message: "I am {{ labels.system.correlationId }} started by {{ labels.system.username }}"
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: dev
    flowId: child
    wait: false
"""
    )
    run = run_here(parent, user=alice)
    assert run.labels["system.correlationId"] == run.pk
    assert run.labels["system.username"] == "alice"
    assert f"I am {run.pk} started by alice" in messages(run)
    child = Execution.objects.get(flow_id="child")
    assert child.labels["system.correlationId"] == run.pk


@pytest.mark.django_db(transaction=True)
def test_numeric_task_ids_and_an_expression_as_pause_delay_are_read_as_kestra_does() -> None:
    flow = save_flow(
        """
id: numbered
namespace: dev
inputs:
  - id: delay
    type: DURATION
    defaults: PT2H
tasks:
  - id: 1
    type: io.kestra.plugin.core.log.Log
    message: first
  - id: 2
    type: io.kestra.plugin.core.flow.Pause
    delay: "{{ inputs.delay }}"
"""
    )
    assert [t.id for t in flow.definition.tasks] == ["1", "2"]
    run = run_here(flow)
    assert run.state == State.PAUSED
    pause = run.task_runs.get(task_id="2")
    assert pause.wake_at is not None
    assert pause.wake_at > timezone.now() + timedelta(hours=1, minutes=59)


def test_a_pause_delay_that_is_neither_a_duration_nor_an_expression_is_refused() -> None:
    with pytest.raises(FlowInvalid, match="not an ISO-8601 duration"):
        parse_flow(
            "id: x\nnamespace: dev\ntasks:\n  - id: p\n"
            "    type: io.kestra.plugin.core.flow.Pause\n    delay: soon\n"
        )


TWO_FLOWS = """id: first
namespace: dev
tasks:
  - id: a
    type: io.kestra.plugin.core.log.Log
    message: one
---
id: second
namespace: dev
tasks:
  - id: b
    type: io.kestra.plugin.core.log.Log
    message: two
"""


@pytest.mark.django_db
def test_the_bulk_import_saves_every_flow_of_a_text_or_none(api: Any) -> None:
    response = api.post("/api/v1/flows/bulk", TWO_FLOWS, content_type="application/x-yaml")
    assert response.status_code == 200
    assert [f["id"] for f in response.json()] == ["first", "second"]
    assert Flow.objects.get(flow_id="second").source.startswith("id: second")
    broken = TWO_FLOWS.replace("id: first", "id: third").replace("message: two", "mesage: two")
    refused = api.post("/api/v1/flows/bulk", broken, content_type="application/x-yaml")
    assert refused.status_code == 422
    assert "Flow 2 of 2 is invalid" in refused.json()["message"]
    assert not Flow.objects.filter(flow_id="third").exists()


@pytest.mark.django_db
def test_validate_answers_for_each_flow_and_a_single_save_says_how_to_send_several(
    api: Any,
) -> None:
    checked = api.post("/api/v1/flows/validate", TWO_FLOWS, content_type="application/x-yaml")
    assert [(r["index"], r.get("flow")) for r in checked.json()] == [(0, "first"), (1, "second")]
    refused = api.post("/api/v1/flows", TWO_FLOWS, content_type="application/x-yaml")
    assert refused.status_code == 422
    assert "several flows" in refused.json()["message"]
    assert "/api/v1/flows/bulk" in refused.json()["message"]


@pytest.mark.django_db
def test_an_examples_file_may_hold_several_flows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pair.yml").write_text("---\n" + TWO_FLOWS)
    monkeypatch.setattr(load_examples, "EXAMPLES", tmp_path)
    out = StringIO()
    call_command("load_examples", stdout=out)
    assert "dev.first created" in out.getvalue() and "dev.second created" in out.getvalue()
    assert Flow.objects.live().filter(flow_id__in=["first", "second"]).count() == 2


@pytest.mark.django_db
def test_the_execution_page_shows_a_secret_input_as_stars(client: Any, alice: Any) -> None:
    execution = execution_start(flow=save_flow(SECRET_FLOW), inputs={"token": "hunter2-xyz"})
    client.force_login(alice)
    page = client.get(execution.get_absolute_url()).content.decode()
    assert "******" in page
    assert "hunter2-xyz" not in page
    assert execution.inputs["token"]["value"] not in page

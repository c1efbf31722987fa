"""A flow that calls itself through Subflow: refused at save when it does so directly; a
chain that comes back round (A → B → A, or a flow id built by an expression) is stopped
at FLOWSITE_SUBFLOW_MAX_DEPTH with an error on the task, the executions bounded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from executions.lifecycle import execution_start
from executions.models import Execution, State
from flows.language import FlowInvalid
from flows.models import Flow
from tests.conftest import FlowsiteProcess, start_worker, wait_until
from tests.executions.driving import inconsistencies
from tests.flows_helpers import finished, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

DEPTH = 3  # the worker's FLOWSITE_SUBFLOW_MAX_DEPTH, small to keep the test short


@pytest.fixture(scope="module")
def shallow_worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[FlowsiteProcess]:
    process = start_worker(FLOWSITE_SUBFLOW_MAX_DEPTH=str(DEPTH))
    yield process
    process.stop()


def calling(flow_id: str, callee: str, *, namespace: str = "dev", wait: bool = True) -> str:
    return (
        f"id: {flow_id}\nnamespace: {namespace}\ntasks:\n"
        "  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
        f"  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n"
        f'    namespace: dev\n    flowId: "{callee}"\n    wait: {str(wait).lower()}\n'
    )


def family(root: Execution) -> list[Execution]:
    """``root`` and every execution started below it, as they are now."""
    found = frontier = [Execution.objects.get(pk=root.pk)]
    while frontier:
        frontier = list(Execution.objects.filter(parent_task_run__execution__in=frontier))
        found = found + frontier
    return found


def test_a_subflow_calling_its_own_flow_is_refused_at_save_with_its_place(db) -> None:
    source = (
        "id: again\nnamespace: dev\ntasks:\n"
        "  - id: fan\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
        "      - id: ok\n        type: io.kestra.plugin.core.log.Log\n        message: hi\n"
        "      - id: loop\n        type: io.kestra.plugin.core.flow.Subflow\n"
        "        namespace: dev\n        flowId: again\n"
    )
    with pytest.raises(FlowInvalid) as refused:
        save_flow(source)
    [error] = refused.value.errors
    assert "'loop'" in error.message and "dev.again" in error.message
    assert (error.line, error.column) == (13, 17)  # the flowId value
    assert error.path == "tasks[0].tasks[1].flowId"
    assert not Flow.objects.filter(flow_id="again").exists()


def test_the_editor_and_the_api_validation_show_the_self_call(client, api, alice) -> None:
    source = calling("again", "again")
    client.force_login(alice)
    checked = client.post("/flows/check/", {"source": source})
    assert checked.status_code == 200
    assert "calls its own flow" in checked.json()["errors"][0]["message"]
    validated = api.post("/api/v1/flows/validate", source, content_type="application/x-yaml")
    assert "calls its own flow" in validated.json()[0]["constraints"]


def test_a_subflow_calling_the_same_id_in_another_namespace_is_saved(db) -> None:
    assert save_flow(calling("again", "again", namespace="dev.team")).flow_id == "again"


def test_flows_calling_each_other_are_stopped_at_the_depth_limit(shallow_worker) -> None:
    save_flow(calling("ping", "pong"))
    save_flow(calling("pong", "ping"))
    root = finished(execution_start(flow=Flow.objects.get(flow_id="ping")), timeout=60)
    executions = family(root)
    assert len(executions) == DEPTH + 1  # the root and DEPTH levels below it
    assert [inconsistencies(execution) for execution in executions] == [[]] * len(executions)
    assert all(execution.state == State.FAILED for execution in executions)
    deepest = max(executions, key=lambda e: e.created_at)
    error = deepest.task_runs.get(task_id="call").error
    assert f"more than {DEPTH} deep" in error and "FLOWSITE_SUBFLOW_MAX_DEPTH" in error
    assert "dev.ping → dev.pong → dev.ping → dev.pong → dev.ping" in error


def test_a_flow_id_built_by_an_expression_is_stopped_at_the_depth_limit(shallow_worker) -> None:
    # Saved: nothing tells before the run that the expression names the flow itself. Not
    # waiting for its child, each execution ends before the next: the chain is still cut.
    root = execution_start(flow=save_flow(calling("itself", "{{ flow.id }}", wait=False)))

    def all_ended() -> list[Execution] | None:
        executions = family(root)
        done = len(executions) > DEPTH and all(e.is_terminal for e in executions)
        return executions if done else None

    executions = wait_until(all_ended, timeout=60, what="the chain of executions to end")
    time.sleep(1)  # a runaway chain would go on meanwhile
    assert len(family(root)) == DEPTH + 1
    assert [inconsistencies(execution) for execution in executions] == [[]] * len(executions)
    deepest = max(executions, key=lambda e: e.created_at)
    assert deepest.state == State.FAILED
    assert f"more than {DEPTH} deep" in deepest.task_runs.get(task_id="call").error
    assert [e.state for e in executions].count(State.SUCCESS) == DEPTH

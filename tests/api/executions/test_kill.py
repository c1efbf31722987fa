"""DELETE /api/v1/executions/{executionId}/kill ends an execution and its scripts."""

from __future__ import annotations

import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from accounts.tokens import token_create
from executions.lifecycle import execution_start
from executions.models import Execution, LogLine
from flows.models import Flow
from tests.api.executions.conftest import (
    SLEEPY_YAML,
    get_execution,
    kill,
    run_as_worker,
    start,
    started_and_run,
)
from tests.conftest import wait_until


def test_killing_an_execution_no_worker_picked_up_ends_it_at_once(api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]

    response = kill(api, execution_id)

    assert response.status_code == 202
    body = get_execution(api, execution_id)
    assert body["state"]["current"] == "KILLED"
    assert body["state"]["endDate"] is not None
    assert [run["state"]["current"] for run in body["taskRunList"]] == ["KILLED"]


def test_a_killed_execution_does_not_run_when_a_worker_picks_it_up_later(
    api: Any, hello: Flow
) -> None:
    execution = start(api, hello)
    kill(api, execution["id"])

    run_as_worker(execution)

    assert get_execution(api, execution["id"])["state"]["current"] == "KILLED"
    assert api.get(f"/api/v1/logs/{execution['id']}").json() == []


def test_it_refuses_to_kill_an_execution_that_already_ended(api: Any, hello: Flow) -> None:
    execution_id = started_and_run(api, hello)

    response = kill(api, execution_id)

    assert response.status_code == 409
    assert response.json()["message"] == f"Execution {execution_id} has already ended (WARNING)"
    assert get_execution(api, execution_id)["state"]["current"] == "WARNING"


def test_killing_twice_is_refused_the_second_time(api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]

    assert kill(api, execution_id).status_code == 202
    assert kill(api, execution_id).status_code == 409


def test_it_answers_404_when_killing_an_unknown_execution(api: Any) -> None:
    response = kill(api, "nope")

    assert response.status_code == 404
    assert "Execution nope not found" in response.json()["message"]


def test_killing_needs_credentials(client: Any, api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]
    del client.defaults["HTTP_AUTHORIZATION"]

    response = kill(client, execution_id)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Flowsite"'
    assert Execution.objects.get(pk=execution_id).state == "CREATED"


@pytest.mark.django_db(transaction=True)
def test_killing_a_running_execution_stops_its_script(api: Any, alice: Any, worker: Any) -> None:
    execution_id = start(api, Flow.save_source(SLEEPY_YAML))["id"]
    wait_until(
        lambda: LogLine.objects.filter(execution_id=execution_id, message="started").exists(),
        timeout=60,
        what="the script to start",
    )

    response = kill(api, execution_id)

    assert response.status_code == 202
    wait_until(
        lambda: Execution.objects.get(pk=execution_id).is_terminal,
        timeout=20,  # far less than the script's sleep 30
        what="the execution to end",
    )
    body = get_execution(api, execution_id)
    assert body["state"]["current"] == "KILLED"
    assert body["taskRunList"][0]["state"]["current"] == "KILLED"
    lines = [(ln["level"], ln["message"]) for ln in api.get(f"/api/v1/logs/{execution_id}").json()]
    assert lines == [
        ("INFO", "started"),
        ("WARN", "Killing: sent SIGTERM, SIGKILL in 10 s"),
        ("WARN", "Killed"),
    ]


def test_the_kill_path_answers_405_naming_delete_for_other_methods(api: Any, hello: Flow) -> None:
    execution_id = start(api, hello)["id"]
    response = api.get(f"/api/v1/executions/{execution_id}/kill")
    assert response.status_code == 405 and response["Allow"] == "DELETE"


@pytest.mark.django_db(transaction=True)
def test_twenty_kills_sent_at_once_are_all_answered_together_and_end_every_execution(
    alice: Any, worker: Any, server_url: str
) -> None:
    flow = Flow.save_source(SLEEPY_YAML)
    ids = [execution_start(flow=flow, user=alice).pk for _ in range(20)]
    wait_until(  # the workers hold some of them, the others wait in the queue
        lambda: Execution.objects.filter(pk__in=ids, state="RUNNING").exists(),
        timeout=60,
        what="a script to start",
    )
    _, token = token_create(user=alice, name="kills", days=7)

    def kill_over_http(execution_id: str) -> int:
        request = urllib.request.Request(
            f"{server_url}/api/v1/executions/{execution_id}/kill",
            method="DELETE",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)

    began = time.monotonic()
    with ThreadPoolExecutor(20) as senders:
        statuses = list(senders.map(kill_over_http, ids))
    answered_in = time.monotonic() - began

    assert statuses == [202] * 20
    assert answered_in < 10, f"20 kills took {answered_in:.1f} s"
    going = Execution.objects.filter(pk__in=ids).exclude(state="KILLED")
    wait_until(lambda: not going.exists(), timeout=30, what="every execution to end KILLED")

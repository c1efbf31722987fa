"""A run you can steer: retries with attempts, restart, replay, the flow's concurrency
limit, and kill reaching flowable and waiting tasks. On a real django-q2 cluster."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from executions.lifecycle import (
    NotAllowed,
    execution_kill,
    execution_replay,
    execution_restart,
    execution_start,
)
from executions.models import LogLine, State
from executions.upkeep import delayed_work_start
from flows.language.tasks import Retry
from tests.conftest import wait_until
from tests.executions.test_flow_control import flow, log, run, runs, shell
from tests.flows_helpers import ended, finished, messages, save_flow, started

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_task_that_fails_twice_then_succeeds_ends_success_with_three_attempts(worker) -> None:
    source = flow(
        "retry-twice",
        shell(
            "flaky",
            "echo attempt {{ taskrun.attemptsCount }}",
            'test "{{ taskrun.attemptsCount }}" -ge 2',
            extra="retry:\n  type: constant\n  interval: PT0.1S\n  maxAttempts: 5",
        ),
    )
    execution = run(source)
    flaky = runs(execution)["flaky"]
    assert (execution.state, flaky.state, flaky.attempt) == (State.SUCCESS, State.SUCCESS, 3)
    attempts = list(flaky.attempts.order_by("number"))
    assert [a.state for a in attempts] == [State.FAILED, State.FAILED, State.SUCCESS]
    for number in (1, 2, 3):  # each attempt has its own logs
        lines = LogLine.objects.filter(task_run=flaky, attempt=number, stream="stdout")
        assert list(lines.values_list("message", flat=True)) == [f"attempt {number - 1}"]


def test_retries_stop_at_max_attempts_and_the_task_fails(worker) -> None:
    source = flow(
        "retry-exhausted",
        shell(
            "never", "exit 1", extra="retry:\n  type: constant\n  interval: PT0S\n  maxAttempt: 2"
        ),
    )
    execution = run(source)
    assert execution.state == State.FAILED
    assert runs(execution)["never"].attempts.count() == 2


def test_warning_on_retry_ends_a_retried_success_in_warning(worker) -> None:
    source = flow(
        "retry-warning",
        shell(
            "flaky",
            'test "{{ taskrun.attemptsCount }}" -ge 1',
            extra="retry:\n  type: constant\n  interval: PT0S\n  maxAttempts: 3\n  warningOnRetry: true",
        ),
    )
    assert run(source).state == State.WARNING


def test_an_exponential_retry_waits_longer_each_time_up_to_its_max_interval() -> None:
    retry = Retry.model_validate(
        {"type": "exponential", "interval": "PT1S", "maxInterval": "PT5S", "maxAttempts": 9}
    )
    waits = [retry.delay_before(n).total_seconds() for n in range(1, 6)]
    assert waits == [1, 2, 4, 5, 5]


def test_a_long_retry_interval_waits_for_the_clock(worker) -> None:
    source = flow(
        "retry-later",
        shell(
            "later",
            'test "{{ taskrun.attemptsCount }}" -ge 1',
            extra="retry:\n  type: constant\n  interval: PT10M\n  maxAttempts: 2",
        ),
    )
    execution = execution_start(flow=save_flow(source))

    def retrying() -> bool:
        return execution.task_runs.filter(state=State.RETRYING).exists()

    wait_until(retrying, timeout=30, what="the task to wait for its retry")
    delayed_work_start(timezone.now() + timedelta(minutes=10, seconds=1))
    execution = finished(execution)
    assert execution.state == State.SUCCESS
    assert runs(execution)["later"].attempts.count() == 2


def test_a_retry_stops_when_max_duration_would_be_exceeded(worker) -> None:
    source = flow(
        "retry-duration",
        shell(
            "slow",
            "sleep 0.4",
            "exit 1",
            extra="retry:\n  type: constant\n  interval: PT0.1S\n  maxDuration: PT0.7S",
        ),
    )
    execution = run(source)
    assert execution.state == State.FAILED
    assert runs(execution)["slow"].attempts.count() == 2


def test_restart_reruns_only_the_failed_task(worker, task_tmp_path) -> None:
    marker = task_tmp_path / "fixed"
    source = flow(
        "restart-me",
        shell("first", "echo first")
        + shell("fragile", f"test -f {marker}")
        + shell("last", "echo last"),
    )
    execution = run(source)
    assert execution.state == State.FAILED
    assert "last" not in runs(execution)
    marker.touch()
    execution_restart(execution_id=execution.pk)
    execution = finished(execution)
    after = runs(execution)
    assert execution.state == State.SUCCESS
    assert after["first"].attempt == 1 and after["fragile"].attempt == 2
    assert messages(execution).count("first") == 1 and "last" in messages(execution)
    assert [a.state for a in after["fragile"].attempts.order_by("number")] == [
        State.FAILED,
        State.SUCCESS,
    ]


def test_only_a_failed_or_killed_execution_can_be_restarted(worker) -> None:
    execution = run(flow("fine", log("ok", "ok")))
    with pytest.raises(NotAllowed, match="SUCCESS"):
        execution_restart(execution_id=execution.pk)


def test_replay_from_a_chosen_task_keeps_what_came_before_in_a_new_execution(worker) -> None:
    source = flow(
        "replay-me",
        shell("extract", """echo '::{"outputs": {"n": 7}}::'""")
        + log("transform", "n={{ outputs.extract.vars.n }}")
        + log("load", "loaded"),
    )
    original = run(source)
    transform = runs(original)["transform"]
    replay = finished(execution_replay(execution_id=original.pk, task_run_id=transform.pk))
    assert replay.pk != original.pk and replay.original_id == original.pk
    assert replay.state == State.SUCCESS
    assert messages(replay) == ["n=7", "loaded"]  # extract was copied, not run again
    assert runs(replay)["extract"].outputs == runs(original)["extract"].outputs


def test_a_concurrency_limit_queues_the_extra_execution_until_one_ends(worker) -> None:
    source = flow(
        "one-at-a-time",
        shell("hold", "sleep 1"),
        extra="concurrency:\n  limit: 1\n",
    )
    flow_row = save_flow(source)
    first = execution_start(flow=flow_row)
    second = execution_start(flow=flow_row)
    assert second.state == State.QUEUED
    first, second = finished(first), finished(second)
    assert (first.state, second.state) == (State.SUCCESS, State.SUCCESS)
    assert started(second) >= ended(first)


@pytest.mark.parametrize(("behavior", "state"), [("CANCEL", "CANCELLED"), ("FAIL", "FAILED")])
def test_a_concurrency_limit_can_cancel_or_fail_the_extra_execution(
    worker, behavior, state
) -> None:
    source = flow(
        f"limit-{behavior.lower()}",
        shell("hold", "sleep 1"),
        extra=f"concurrency:\n  limit: 1\n  behavior: {behavior}\n",
    )
    flow_row = save_flow(source)
    first = execution_start(flow=flow_row)
    second = execution_start(flow=flow_row)
    assert second.state == state and second.is_terminal
    assert finished(first).state == State.SUCCESS


def test_kill_reaches_tasks_inside_a_parallel(worker) -> None:
    branches = "".join(shell(f"s{i}", "sleep 30", indent=6) for i in range(2))
    source = flow(
        "kill-parallel",
        "  - id: both\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n" + branches,
    )
    execution = execution_start(flow=save_flow(source))
    wait_until(
        lambda: (
            execution.task_runs.filter(state=State.RUNNING, task_id__startswith="s").count() == 2
        ),
        timeout=30,
        what="both branches to run",
    )
    execution_kill(execution_id=execution.pk)
    execution = finished(execution, timeout=20)
    assert execution.state == State.KILLED
    assert {r.state for r in execution.task_runs.all()} == {State.KILLED}


@pytest.mark.docker
def test_a_task_timeout_kills_its_container(worker, docker_engine) -> None:
    import docker

    source = flow(
        "timeout-container",
        "  - id: slow\n    type: io.kestra.plugin.scripts.shell.Commands\n"
        "    containerImage: python:3.11-slim\n    taskRunner:\n"
        "      type: io.kestra.plugin.scripts.runner.docker.Docker\n      pullPolicy: NEVER\n"
        "    timeout: PT1S\n    commands:\n      - sleep 60\n",
    )
    execution = finished(execution_start(flow=save_flow(source)), timeout=40)
    slow = runs(execution)["slow"]
    assert (execution.state, slow.state, slow.error) == (State.FAILED, State.FAILED, "Timed out")
    assert (ended(slow) - started(slow)).total_seconds() < 30
    left = docker.from_env().containers.list(
        all=True, filters={"label": f"flowsite.taskrun={slow.pk}"}
    )
    assert left == []


def test_restart_lets_a_flowable_that_failed_to_decide_decide_again(worker) -> None:
    from namespaces.models import NamespaceVariable

    source = flow(
        "restart-foreach",
        "  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
        '    values: "{{ namespace.regions }}"\n    tasks:\n'
        + log("say", "{{ taskrun.value }}", indent=6),
    )
    execution = run(source)
    assert execution.state == State.FAILED
    assert "regions" in runs(execution)["each"].error
    NamespaceVariable.store(namespace="dev", key="regions", value=["eu", "us"])
    execution_restart(execution_id=execution.pk)
    execution = finished(execution)
    assert execution.state == State.SUCCESS
    assert sorted(messages(execution)) == ["eu", "us"]

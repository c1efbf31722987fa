"""Pause as Kestra runs it (its older ``tasks``, ``onResume`` inputs, what follows a
pause that was not resumed in time) and LoopUntil (WaitFor before), on a real worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from executions.lifecycle import execution_kill, execution_resume, execution_start
from executions.models import Execution, State, TaskRun
from executions.upkeep import delayed_work_start
from flows.inputs import InputsInvalid
from tests.conftest import basic_auth, wait_until
from tests.flows_helpers import finished, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

LOG = "io.kestra.plugin.core.log.Log"
RETURN = "io.kestra.plugin.core.debug.Return"


def paused(execution: Execution) -> Execution:
    def is_paused() -> Execution | None:
        execution.refresh_from_db()
        return execution if execution.state == State.PAUSED else None

    return wait_until(is_paused, timeout=30, what="the execution to pause")


def state_of(execution: Execution, task_id: str) -> str:
    return TaskRun.objects.get(execution=execution, task_id=task_id).state


def test_a_pause_with_the_older_tasks_runs_them_once_resumed_then_goes_on(worker) -> None:
    execution = paused(
        execution_start(
            flow=save_flow(f"""
id: pause-tasks
namespace: dev
tasks:
  - id: approve
    type: io.kestra.core.tasks.flows.Pause
    tasks:
      - {{id: inside, type: {LOG}, message: "after approval"}}
  - {{id: next, type: {LOG}, message: "next"}}
""")
        )
    )
    assert "inside" not in {r.task_id for r in execution.task_runs.all()}
    execution_resume(execution_id=execution.pk)
    execution = finished(execution)
    assert execution.state == State.SUCCESS
    assert messages(execution)[-2:] == ["after approval", "next"]
    inside = TaskRun.objects.get(execution=execution, task_id="inside")
    assert inside.parent is not None and inside.parent.task_id == "approve"


ON_RESUME = f"""
id: pause-on-resume
namespace: dev
tasks:
  - id: review
    type: io.kestra.plugin.core.flow.Pause
    onResume:
      - id: approved
        type: BOOLEAN
      - id: reason
        type: STRING
        defaults: no reason
  - id: outcome
    type: {LOG}
    message: "approved={{{{ outputs.review.onResume.approved }}}} because {{{{ outputs.review.onResume.reason }}}}"
"""


def test_resume_inputs_are_checked_then_read_as_the_pauses_on_resume_outputs(worker) -> None:
    execution = paused(execution_start(flow=save_flow(ON_RESUME)))
    with pytest.raises(InputsInvalid) as refused:
        execution_resume(execution_id=execution.pk, inputs={"approved": "perhaps"})
    assert "approved" in refused.value.errors
    assert paused(execution).state == State.PAUSED  # a refused resume changes nothing
    execution_resume(execution_id=execution.pk, inputs={"approved": "true"})
    execution = finished(execution)
    assert execution.state == State.SUCCESS
    assert messages(execution)[-1] == "approved=true because no reason"


def test_the_resume_api_takes_on_resume_inputs_and_names_a_bad_one(worker, client, alice) -> None:
    execution = paused(
        execution_start(
            flow=save_flow(ON_RESUME.replace("id: pause-on-resume", "id: pause-on-resume-api"))
        )
    )
    url = f"/api/v1/executions/{execution.pk}/resume"
    auth = {"HTTP_AUTHORIZATION": basic_auth()}
    refused = client.post(url, {"approved": "perhaps"}, **auth)
    assert refused.status_code == 422
    assert "approved" in refused.json()["errors"]
    accepted = client.post(url, {"approved": "false", "reason": "too early"}, **auth)
    assert accepted.status_code == 200
    assert messages(finished(execution))[-1] == "approved=false because too early"


@pytest.mark.parametrize(
    ("behavior", "pause_state", "execution_state"),
    [("WARN", State.WARNING, State.WARNING), ("FAIL", State.FAILED, State.FAILED)],
)
def test_a_pause_not_resumed_in_time_ends_as_its_behavior_says(
    worker, behavior: str, pause_state: str, execution_state: str
) -> None:
    execution = paused(
        execution_start(
            flow=save_flow(f"""
id: pause-{behavior.lower()}
namespace: dev
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT1H
    behavior: {behavior}
  - {{id: after, type: {LOG}, message: after}}
""")
        )
    )
    delayed_work_start(timezone.now() + timedelta(hours=1, seconds=1))
    execution = finished(execution)
    assert state_of(execution, "wait") == pause_state
    assert execution.state == execution_state


def test_a_pause_with_only_the_older_timeout_fails_when_nobody_resumes_it(worker) -> None:
    execution = paused(
        execution_start(
            flow=save_flow("""
id: pause-timeout
namespace: dev
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    timeout: PT10M
""")
        )
    )
    delayed_work_start(timezone.now() + timedelta(minutes=5))
    assert paused(execution).state == State.PAUSED
    delayed_work_start(timezone.now() + timedelta(minutes=11))
    assert finished(execution).state == State.FAILED


LOOP = f"""
id: loop-until
namespace: dev
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.LoopUntil
    condition: "{{{{ outputs.count.value == '3' }}}}"
    checkFrequency:
      interval: PT0.1S
    tasks:
      - {{id: count, type: {RETURN}, format: "{{{{ outputs.loop.iterationCount }}}}"}}
      - {{id: turn, type: {LOG}, message: "turn {{{{ taskrun.iteration }}}}"}}
  - {{id: done, type: {LOG}, message: "done after {{{{ outputs.loop.iterationCount }}}}"}}
"""


def test_loop_until_runs_its_tasks_in_turns_until_its_condition_holds(worker, clock) -> None:
    execution = finished(execution_start(flow=save_flow(LOOP)))
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["turn 1", "turn 2", "turn 3", "done after 3"]


def test_wait_for_stops_at_max_iterations_and_fails_when_told_to(worker, clock) -> None:
    source = (
        LOOP.replace("core.flow.LoopUntil", "core.flow.WaitFor")
        .replace("'3'", "'never'")
        .replace("interval: PT0.1S", "interval: PT0.1S\n      maxIterations: 2")
    )
    lenient = finished(execution_start(flow=save_flow(source)))
    assert lenient.state == State.SUCCESS
    assert messages(lenient) == ["turn 1", "turn 2", "done after 2"]
    strict_source = source.replace("id: loop-until", "id: loop-strict").replace(
        "    checkFrequency:", "    failOnMaxReached: true\n    checkFrequency:"
    )
    strict = finished(execution_start(flow=save_flow(strict_source)))
    assert strict.state == State.FAILED
    assert state_of(strict, "loop") == State.FAILED


def test_a_loop_condition_that_cannot_render_fails_the_loop_naming_it(worker) -> None:
    execution = finished(
        execution_start(flow=save_flow(LOOP.replace("outputs.count.value", "outputs.nope.value")))
    )
    assert execution.state == State.FAILED
    loop = TaskRun.objects.get(execution=execution, task_id="loop")
    assert "condition" in loop.error and "outputs.nope.value" in loop.error


def test_wait_for_without_check_frequency_keeps_the_older_one_second_turns(worker, clock) -> None:
    source = (
        LOOP.replace("core.flow.LoopUntil", "core.flow.WaitFor")
        .replace("'3'", "'2'")
        .replace("    checkFrequency:\n      interval: PT0.1S\n", "")
    )
    execution = finished(execution_start(flow=save_flow(source)))
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["turn 1", "turn 2", "done after 2"]


def test_the_execution_page_asks_for_the_on_resume_inputs_and_resumes_with_them(
    worker, client, alice, password
) -> None:
    execution = paused(execution_start(flow=save_flow(ON_RESUME)))
    client.login(username="alice", password=password)
    page = client.get(f"/executions/{execution.pk}/").content.decode()
    assert 'name="approved"' in page and 'name="reason"' in page
    url = f"/executions/{execution.pk}/resume/"
    refused = client.post(url, {"approved": "", "reason": ""}, follow=True)
    assert "Input &#x27;approved&#x27;" in refused.content.decode()
    assert paused(execution).state == State.PAUSED
    client.post(url, {"approved": "true", "reason": ""})
    assert messages(finished(execution))[-1] == "approved=true because no reason"


def test_killing_a_loop_waiting_for_its_next_turn_ends_it_killed(worker) -> None:
    source = LOOP.replace("'3'", "'never'").replace("interval: PT0.1S", "interval: PT1H")
    execution = execution_start(flow=save_flow(source))

    def waiting() -> TaskRun | None:
        return TaskRun.objects.filter(
            execution=execution, task_id="loop", wake_at__isnull=False
        ).first()

    wait_until(waiting, what="the loop to wait for its second turn")
    execution_kill(execution_id=execution.pk)
    execution = finished(execution)
    assert execution.state == State.KILLED
    assert state_of(execution, "loop") == State.KILLED
    assert "done" not in {run.task_id for run in execution.task_runs.all()}

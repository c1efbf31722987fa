"""kestrapy's execution calls on a real worker: create (with and without inputs, as the
multipart form kestrapy sends), get, search by ``filters[...]``, kill, restart, replay,
resume and follow; every attempt of a retried task is listed."""

from __future__ import annotations

import threading

import pytest
from kestrapy.exceptions import (
    BadRequestException,
    NotFoundException,
    UnprocessableEntityException,
)
from kestrapy.models.label import Label
from kestrapy.models.query_filter import QueryFilter

from executions.lifecycle import execution_start
from executions.models import Execution, State
from flows.models import Flow
from tests.conftest import wait_until
from tests.flows_helpers import PROCESS, finished
from tests.kestra_client.conftest import TENANT, body_of, where

pytestmark = pytest.mark.django_db(transaction=True)

GREET = """\
id: greet
namespace: dev
inputs:
  - id: name
    type: STRING
    defaults: world
  - id: times
    type: INT
    defaults: 1
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "hello {{ inputs.name }} x{{ inputs.times }}"
"""

SLOW = f"""\
id: slow
namespace: dev
tasks:
  - id: nap
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner: {{type: {PROCESS}}}
    commands: ["sleep 60"]
"""

# Fails on its first two attempts, succeeds on the third.
FLAKY = f"""\
id: flaky
namespace: dev
tasks:
  - id: try
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner: {{type: {PROCESS}}}
    commands: ['test "{{{{ taskrun.attemptsCount }}}}" -ge 2']
    retry: {{type: constant, interval: PT0.1S, maxAttempts: 5}}
"""

WAITS = """\
id: waits
namespace: dev
tasks:
  - id: hold
    type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: resumed
"""


def saved(source: str) -> Flow:
    return Flow.save_source(source)


def ended(execution_id: str) -> Execution:
    return finished(Execution.objects.get(pk=execution_id))


def test_it_starts_an_execution_without_inputs_and_gets_it_once_ended(kestra, worker) -> None:
    saved(GREET)

    started = kestra.executions.create_execution(TENANT, "dev", "greet")
    ended(started.id)
    execution = kestra.executions.execution(started.id, TENANT)

    assert started.state.current in ("CREATED", "RUNNING")
    assert started.url.endswith(f"/executions/{started.id}/")
    assert execution.inputs == {"name": "world", "times": 1}
    assert execution.state.current == "SUCCESS"
    assert [h.state for h in execution.state.histories][0] == "CREATED"
    assert execution.state.histories[-1].state == "SUCCESS"
    assert execution.state.duration.startswith("PT")
    [say] = execution.task_run_list
    assert (say.task_id, say.state.current) == ("say", "SUCCESS")


def test_it_starts_an_execution_with_inputs_and_labels(kestra, worker) -> None:
    saved(GREET)

    started = kestra.executions.create_execution(
        TENANT, "dev", "greet", labels=["team:data"], inputs={"name": "Ada", "times": 3}
    )
    execution = ended(started.id)

    assert execution.inputs == {"name": "Ada", "times": 3}
    given = [(label.key, label.value) for label in started.labels]
    assert [pair for pair in given if not pair[0].startswith("system.")] == [("team", "data")]
    assert ("system.username", "alice") in given  # set on every execution, as in Kestra
    assert execution.state == State.SUCCESS


def test_wait_answers_the_execution_once_it_has_ended(kestra, worker) -> None:
    saved(GREET)

    execution = kestra.executions.create_execution(TENANT, "dev", "greet", wait=True)

    assert execution.state.current == "SUCCESS"
    assert execution.state.end_date is not None
    assert [run.state.current for run in execution.task_run_list] == ["SUCCESS"]


def test_a_bad_input_is_refused_and_nothing_runs(kestra) -> None:
    saved(GREET)

    with pytest.raises(UnprocessableEntityException) as refused:
        kestra.executions.create_execution(TENANT, "dev", "greet", inputs={"times": "many"})

    assert "times" in body_of(refused)
    assert not Execution.objects.exists()


def test_every_attempt_of_a_retried_task_is_listed(kestra, worker) -> None:
    saved(FLAKY)

    started = kestra.executions.create_execution(TENANT, "dev", "flaky")
    ended(started.id)
    [run] = kestra.executions.execution(started.id, TENANT).task_run_list

    assert [a.state.current for a in run.attempts] == ["FAILED", "FAILED", "SUCCESS"]
    assert all(a.state.start_date is not None for a in run.attempts)
    assert "RETRYING" in [h.state for h in run.state.histories]


def test_kill_through_the_actions_path_answers_the_execution(kestra, worker) -> None:
    saved(SLOW)
    started = kestra.executions.create_execution(TENANT, "dev", "slow")
    wait_until(lambda: Execution.objects.filter(pk=started.id, state=State.RUNNING).exists())

    killed = kestra.executions.kill_execution(started.id, TENANT)

    assert killed.id == started.id
    assert killed.state.current in ("KILLING", "KILLED")
    assert ended(started.id).state == State.KILLED


def test_restart_replay_and_resume(kestra, worker) -> None:
    saved(WAITS)
    started = kestra.executions.create_execution(TENANT, "dev", "waits")
    wait_until(lambda: Execution.objects.filter(pk=started.id, state=State.PAUSED).exists())

    resumed = kestra.executions.resume_execution(started.id, TENANT)
    done = ended(started.id)
    replay = kestra.executions.replay_execution(started.id, TENANT)

    assert resumed.id == started.id and done.state == State.SUCCESS
    assert replay.id != started.id and replay.original_id == started.id
    kestra.executions.kill_execution(replay.id, TENANT)
    assert ended(replay.id).state == State.KILLED
    restarted = kestra.executions.restart_execution(replay.id, TENANT)
    assert restarted.id == replay.id
    assert restarted.state.current != "KILLED"
    # The killed Pause runs again, and waits again.
    wait_until(lambda: Execution.objects.filter(pk=replay.id, state=State.PAUSED).exists())


def test_follow_streams_the_execution_until_it_ends(kestra, worker) -> None:
    saved(WAITS)
    started = kestra.executions.create_execution(TENANT, "dev", "waits")
    wait_until(lambda: Execution.objects.filter(pk=started.id, state=State.PAUSED).exists())

    seen = []
    for event in kestra.executions.follow_execution(started.id, TENANT):
        seen.append(event.state.current)
        if len(seen) == 1:  # resumed from elsewhere while the stream is open
            threading.Thread(
                target=kestra.executions.resume_execution, args=(started.id, TENANT)
            ).start()

    assert seen[0] == "PAUSED"
    assert seen[-1] == "SUCCESS"
    assert len(seen) >= 2


def test_follow_of_an_unknown_execution_is_a_json_404(kestra) -> None:
    with pytest.raises(NotFoundException) as missing:
        list(kestra.executions.follow_execution("nope", TENANT))

    assert "not found" in body_of(missing)


def found(kestra, query) -> list[str]:
    page = kestra.executions.search_executions(TENANT, size=100, filters=query)
    assert page["total"] == len(page["results"])
    return sorted(e["id"] for e in page["results"])


def filtered(kestra, **filters) -> list[str]:
    return found(kestra, [where(field, op, value) for field, (op, value) in filters.items()])


def group(logical: str, **filters) -> QueryFilter:
    children = [
        {"field": field, "operation": op, "value": value} for field, (op, value) in filters.items()
    ]
    return QueryFilter.model_validate({"logical": logical, "children": children})


def test_search_filters_by_namespace_flow_state_labels_dates_and_text(kestra, worker) -> None:
    saved(GREET)
    saved(GREET.replace("namespace: dev", "namespace: company.data"))
    saved(FLAKY.replace("maxAttempts: 5", "maxAttempts: 1"))
    dev = kestra.executions.create_execution(TENANT, "dev", "greet", labels=["team:data"])
    data = kestra.executions.create_execution(TENANT, "company.data", "greet")
    failed = kestra.executions.create_execution(TENANT, "dev", "flaky")
    for execution_id in (dev.id, data.id, failed.id):
        ended(execution_id)
    moment = Execution.objects.get(pk=data.id).created_at.isoformat()

    assert filtered(kestra, namespace=("EQUALS", "dev")) == sorted([dev.id, failed.id])
    assert filtered(kestra, namespace=("NOT_EQUALS", "dev")) == [data.id]
    assert filtered(kestra, namespace=("STARTS_WITH", "comp")) == [data.id]
    assert filtered(kestra, namespace=("PREFIX", "company")) == [data.id]
    assert filtered(kestra, namespace=("IN", ["dev", "company.data"])) == sorted(
        [dev.id, data.id, failed.id]
    )
    assert filtered(kestra, flowId=("EQUALS", "flaky")) == [failed.id]
    assert filtered(kestra, flowId=("CONTAINS", "ree")) == sorted([dev.id, data.id])
    assert filtered(kestra, state=("IN", ["FAILED", "KILLED"])) == [failed.id]
    assert filtered(kestra, state=("EQUALS", "SUCCESS"), namespace=("EQUALS", "dev")) == [dev.id]
    assert filtered(kestra, labels=("EQUALS", {"team": "data"})) == [dev.id]
    assert filtered(kestra, labels=("NOT_EQUALS", {"team": "data"})) == sorted([data.id, failed.id])
    assert data.id in filtered(kestra, startDate=("GREATER_THAN_OR_EQUAL_TO", moment))
    assert dev.id not in filtered(kestra, startDate=("GREATER_THAN", moment))
    assert data.id in filtered(kestra, startDate=("LESS_THAN_OR_EQUAL_TO", moment))
    assert filtered(kestra, q=("EQUALS", failed.id)) == [failed.id]
    assert filtered(kestra, timeRange=("EQUALS", "PT1H")) == sorted([dev.id, data.id, failed.id])
    failed_or_data = group("or", state=("EQUALS", "FAILED"), namespace=("EQUALS", "company.data"))
    assert found(kestra, [failed_or_data]) == sorted([data.id, failed.id])
    in_dev = where("namespace", "EQUALS", "dev")
    labelled_or_failed = group(
        "or", state=("EQUALS", "FAILED"), labels=("EQUALS", {"team": "data"})
    )
    assert found(kestra, [in_dev, labelled_or_failed]) == sorted([dev.id, failed.id])
    assert found(kestra, [in_dev, group("or", state=("EQUALS", "KILLED"))]) == []


def test_search_never_returns_executions_of_a_namespace_one_cannot_see(
    kestra, kestra_bob, kestra_charlie, worker
) -> None:
    saved(GREET)
    saved(GREET.replace("namespace: dev", "namespace: company.data"))
    dev = kestra.executions.create_execution(TENANT, "dev", "greet")
    data = kestra.executions.create_execution(TENANT, "company.data", "greet")

    assert filtered(kestra_bob) == [data.id]
    assert filtered(kestra_bob, namespace=("EQUALS", "dev")) == []
    assert filtered(kestra_bob, namespace=("STARTS_WITH", "d")) == []
    assert filtered(kestra_charlie) == []
    assert filtered(kestra_charlie, namespace=("IN", ["dev", "company.data"])) == []
    with pytest.raises(NotFoundException):
        kestra_bob.executions.execution(dev.id, TENANT)


def test_search_sorts_as_asked(kestra) -> None:
    flow = saved(GREET)
    first = execution_start(flow=flow)
    second = execution_start(flow=flow)

    oldest = kestra.executions.search_executions(TENANT, sort=["state.startDate:asc"])
    newest = kestra.executions.search_executions(TENANT, sort=["state.startDate:desc"])

    assert [e["id"] for e in oldest["results"]] == [first.pk, second.pk]
    assert [e["id"] for e in newest["results"]] == [second.pk, first.pk]
    with pytest.raises(BadRequestException) as refused:
        kestra.executions.search_executions(TENANT, sort=["mood:asc"])
    assert "mood" in body_of(refused)


@pytest.mark.parametrize(
    "query",
    [
        where("namespace", "GREATER_THAN", "dev"),
        where("state", "EQUALS", "DONE"),
        where("startDate", "GREATER_THAN", "yesterday"),
        where("flowRevision", "EQUALS", "1"),
    ],
    ids=["operation", "state", "date", "field"],
)
def test_a_filter_that_cannot_be_read_is_refused_not_ignored(kestra, query) -> None:
    with pytest.raises(BadRequestException) as refused:
        kestra.executions.search_executions(TENANT, filters=[query])

    assert "filters[" in body_of(refused)


def test_it_sets_labels_on_an_ended_execution_as_kestra_does(
    kestra, kestra_charlie, worker
) -> None:
    saved(GREET)
    started = kestra.executions.create_execution(TENANT, "dev", "greet", labels=["team:data"])
    ended(started.id)

    changed = kestra.executions.set_labels_on_terminated_execution(
        started.id, TENANT, [Label(key="team", value="web"), Label(key="env", value="prod")]
    )

    given = {label.key: label.value for label in changed.labels}
    assert given["team"] == "web" and given["env"] == "prod"
    assert given["system.username"] == "alice"  # kept, as Kestra keeps its own labels
    again = kestra.executions.execution(started.id, TENANT)
    assert {label.key: label.value for label in again.labels} == given
    with pytest.raises(BadRequestException):
        kestra.executions.set_labels_on_terminated_execution(
            started.id, TENANT, [Label(key="system.username", value="mallory")]
        )
    with pytest.raises(NotFoundException):
        kestra_charlie.executions.set_labels_on_terminated_execution(
            started.id, TENANT, [Label(key="team", value="stolen")]
        )

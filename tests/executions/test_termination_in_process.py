"""Termination, driven in this process with the engine's own code (tests/executions/
driving.py): no worker process runs in this module, so none races the test for a job.

The property: whatever flow is written (Sequential, Parallel, If, Switch and ForEach
nested, retries, allowFailure, runIf, errors and finally) and whatever goes wrong (a
task that fails, an expression that does not render, a worker that dies with its task),
every execution ends, in the state the flow language says, with every task run ended.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from executions import planner
from executions.lifecycle import execution_start
from executions.models import State, TaskRun
from flows.language.tasks.flowable import IfTask
from tests.executions.driving import drive, inconsistencies
from tests.executions.test_subflow_recursion import calling, family
from tests.executions.test_termination import flow, log, runs
from tests.flows_helpers import messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)

# --- a bug of ours in the planner: injected, since none is known -----------------------


def test_a_flowable_whose_progress_raises_fails_and_the_execution_goes_on(monkeypatch) -> None:
    def broken(self: Any, planner_: Any, run: Any) -> None:
        raise RuntimeError("a bug in If")

    monkeypatch.setattr(IfTask, "progress", broken)
    source = flow(
        "progress-bug",
        "  - id: check\n    type: io.kestra.plugin.core.flow.If\n"
        '    condition: "{{ true }}"\n'
        "    then: [{id: inner, type: io.kestra.plugin.core.log.Log, message: x}]\n",
    )
    execution = execution_start(flow=save_flow(source))
    drive()
    assert inconsistencies(execution) == []
    assert execution.state == State.FAILED
    error = runs(execution)["check"].error
    assert "'check'" in error and "a bug in If" in error
    assert {"errors ran", "finally ran"} <= set(messages(execution))


def test_a_planner_that_raises_fails_the_execution_instead_of_leaving_it_running(
    monkeypatch,
) -> None:
    source = flow("planner-bug", log("first") + log("second"), extra="")
    execution = execution_start(flow=save_flow(source))
    real_root_state = planner._Walk.root_state

    def broken(self: Any) -> Any:
        if any(run.state == State.SUCCESS for run in self.runs.values()):
            raise RuntimeError("a bug in the walk")
        return real_root_state(self)

    monkeypatch.setattr(planner._Walk, "root_state", broken)
    drive()
    assert inconsistencies(execution) == []
    assert execution.state == State.FAILED
    assert "a bug in the walk" in execution.error
    by_path = runs(execution)
    assert by_path["first"].state == State.SUCCESS  # its own outcome is kept
    assert "second" not in by_path


def test_a_planner_that_raises_while_a_worker_holds_a_task_waits_for_it_then_fails(
    monkeypatch,
) -> None:
    source = flow(
        "planner-bug-held",
        "  - id: both\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
        "      - {id: held, type: io.kestra.plugin.core.log.Log, message: ok}\n"
        "      - {id: quick, type: io.kestra.plugin.core.log.Log, message: ok}\n"
        "      - {id: queued, type: io.kestra.plugin.core.log.Log, message: ok}\n",
        extra="",
    )
    execution = execution_start(flow=save_flow(source))
    real_root_state = planner._Walk.root_state
    seen: list[dict[str, str]] = []

    def broken(self: Any) -> Any:
        if any(run.state == State.SUCCESS for run in self.runs.values()):
            seen.append({run.task_id: run.state for run in self.runs.values()})
            raise RuntimeError("a bug in the walk")
        return real_root_state(self)

    monkeypatch.setattr(planner._Walk, "root_state", broken)
    # 'held' is claimed by a worker that dies with it: while it holds the run, the
    # execution waits; the sweep then fails it, and the execution ends.
    drive(dies=lambda run: run.task_id == "held")
    assert inconsistencies(execution) == []
    assert execution.state == State.FAILED and "a bug in the walk" in execution.error
    # Planned twice: when 'quick' ended ('held' still held: the execution went on
    # waiting), and when the sweep failed 'held' (nothing held: the execution ended).
    [first, second] = seen
    assert first["quick"] == State.SUCCESS and first["held"] == State.RUNNING
    assert second["held"] == State.FAILED
    by_path = runs(execution)
    assert by_path["both/queued"].state == State.FAILED
    assert "a bug in the walk" in by_path["both/queued"].error
    assert "stopped" in by_path["both/held"].error  # failed by the sweep, not by the bug


def test_the_depth_limit_defaults_to_ten_executions_below_the_root(db) -> None:
    # In this process, with the engine's own job function; no worker of this module runs.
    flow = save_flow(calling("itself", "{{ flow.id }}"))
    root = execution_start(flow=flow)
    drive()
    executions = family(root)
    assert len(executions) == 11
    assert [inconsistencies(execution) for execution in executions] == [[]] * 11
    assert all(execution.state == State.FAILED for execution in executions)


# --- the property: random flows, injected failures, every execution ends --------------

FLOW = "io.kestra.plugin.core.flow."
NOWHERE = "{{ nowhere.at.all }}"  # renders nowhere: an error of the flow's
RUN_IFS = st.sampled_from([None, None, None, "true", "false", "error"])
Spec = dict[str, Any]


def leaves() -> st.SearchStrategy[Spec]:
    return st.fixed_dictionaries(
        {
            "kind": st.just("leaf"),
            # ok, a task that fails, one that fails its first attempt only, an expression
            # that does not render, a worker that dies holding the task, a Subflow whose
            # child execution succeeds or fails
            "behaviour": st.sampled_from(
                ["ok", "ok", "fail", "flaky", "render", "dies", "child-ok", "child-fail"]
            ),
            "retry": st.none() | st.fixed_dictionaries({"warning": st.booleans()}),
            "allow": st.booleans(),
            "run_if": RUN_IFS,
            "disabled": st.sampled_from([False] * 9 + [True]),
        }
    )


def task_lists(depth: int, min_size: int = 1) -> st.SearchStrategy[list[Spec]]:
    tasks = leaves() if depth == 0 else st.one_of(leaves(), leaves(), flowables(depth))
    return st.lists(tasks, min_size=min_size, max_size=3)


def flowables(depth: int) -> st.SearchStrategy[Spec]:
    inner, maybe = task_lists(depth - 1), task_lists(depth - 1, min_size=0)
    common = {"allow": st.booleans(), "run_if": RUN_IFS, "disabled": st.just(False)}
    return st.one_of(
        st.fixed_dictionaries({"kind": st.just("sequential"), "tasks": inner, **common}),
        st.fixed_dictionaries(
            {"kind": st.just("parallel"), "tasks": inner, "limit": st.integers(0, 2), **common}
        ),
        st.fixed_dictionaries(
            {
                "kind": st.just("if"),
                "decide": st.sampled_from(["true", "false", "error"]),
                "then": inner,
                "else": maybe,
                **common,
            }
        ),
        st.fixed_dictionaries(
            {
                "kind": st.just("switch"),
                "decide": st.sampled_from(["a", "zzz", "error"]),
                "a": inner,
                "b": inner,
                "defaults": maybe,
                **common,
            }
        ),
        st.fixed_dictionaries(
            {
                "kind": st.just("foreach"),
                "decide": st.sampled_from([[], ["x"], ["x", "y", "z"], "error", "not a list"]),
                "limit": st.integers(0, 2),
                "tasks": inner,
                **common,
            }
        ),
    )


flows = st.fixed_dictionaries(
    {
        "tasks": task_lists(2),
        "errors": st.just([]) | task_lists(1),
        "finally": st.just([]) | task_lists(1),
    }
)


class Writer:
    """A flow spec as Kestra YAML, with unique task ids; a task that dies is named die…"""

    def __init__(self) -> None:
        self.count = 0

    def flow(self, spec: Spec) -> str:
        document: dict[str, Any] = {"id": "random", "namespace": "dev"}
        for key in ("tasks", "errors", "finally"):
            if spec[key]:
                document[key] = self.tasks(spec[key])
        return yaml.safe_dump(document, sort_keys=False)

    def tasks(self, specs: list[Spec]) -> list[dict[str, Any]]:
        return [self.task(spec) for spec in specs]

    def task(self, spec: Spec) -> dict[str, Any]:
        self.count += 1
        dies = spec.get("behaviour") == "dies"
        task: dict[str, Any] = {"id": f"{'die' if dies else 't'}{self.count}"}
        task.update(self.leaf(spec) if spec["kind"] == "leaf" else self.flowable(spec))
        if spec.get("retry") and not dies:
            warning = spec["retry"]["warning"]
            task["retry"] = {"type": "constant", "interval": "PT0S", "maxAttempts": 2}
            task["retry"]["warningOnRetry"] = warning
        if spec["allow"]:
            task["allowFailure"] = True
        if spec["run_if"]:
            task["runIf"] = NOWHERE if spec["run_if"] == "error" else f"{{{{ {spec['run_if']} }}}}"
        if spec["disabled"]:
            task["disabled"] = True
        return task

    @staticmethod
    def leaf(spec: Spec) -> dict[str, Any]:
        fail = "io.kestra.plugin.core.execution.Fail"
        return {
            "ok": {"type": "io.kestra.plugin.core.log.Log", "message": "ok"},
            "fail": {"type": fail, "errorMessage": "boom"},
            "flaky": {
                "type": fail,
                "condition": "{{ taskrun.attemptsCount == 0 }}",
                "errorMessage": "first attempt",
            },
            "render": {"type": "io.kestra.plugin.core.log.Log", "message": NOWHERE},
            "dies": {"type": "io.kestra.plugin.core.log.Log", "message": "dies"},
            "child-ok": {"type": FLOW + "Subflow", "namespace": "dev", "flowId": "child-ok"},
            "child-fail": {"type": FLOW + "Subflow", "namespace": "dev", "flowId": "child-fail"},
        }[spec["behaviour"]]

    def flowable(self, spec: Spec) -> dict[str, Any]:
        kind, decide = spec["kind"], spec.get("decide")
        if kind == "sequential":
            return {"type": FLOW + "Sequential", "tasks": self.tasks(spec["tasks"])}
        if kind == "parallel":
            tasks = self.tasks(spec["tasks"])
            return {"type": FLOW + "Parallel", "concurrent": spec["limit"], "tasks": tasks}
        if kind == "if":
            condition = NOWHERE if decide == "error" else f"{{{{ {decide} }}}}"
            task: dict[str, Any] = {"type": FLOW + "If", "condition": condition}
            task["then"] = self.tasks(spec["then"])
            return task | ({"else": self.tasks(spec["else"])} if spec["else"] else {})
        if kind == "switch":
            value = NOWHERE if decide == "error" else f"{{{{ '{decide}' }}}}"
            cases = {"a": self.tasks(spec["a"]), "b": self.tasks(spec["b"])}
            task = {"type": FLOW + "Switch", "value": value, "cases": cases}
            return task | ({"defaults": self.tasks(spec["defaults"])} if spec["defaults"] else {})
        values = {"error": NOWHERE, "not a list": "{{ 'not a list' }}"}.get(str(decide), decide)
        return {
            "type": FLOW + "ForEach",
            "values": values,
            "concurrencyLimit": spec["limit"],
            "tasks": self.tasks(spec["tasks"]),
        }


def expected_state(spec: Spec) -> State:
    """A task's end state as the flow language says, computed apart from the engine."""
    if spec["run_if"] == "error":
        return State.FAILED
    if spec["run_if"] == "false":
        return State.SKIPPED
    kind, decide = spec["kind"], spec.get("decide")
    if kind == "leaf":
        behaviour, retry = spec["behaviour"], spec["retry"]
        if behaviour in ("ok", "child-ok"):
            return State.SUCCESS
        if behaviour == "flaky" and retry:
            return State.WARNING if retry["warning"] else State.SUCCESS
        return State.FAILED
    if decide == "error" or decide == "not a list":
        return State.FAILED
    if kind == "parallel":
        states = [contribution(task) for task in spec["tasks"] if not task["disabled"]]
        return max(
            states, key=[State.SUCCESS, State.WARNING, State.FAILED].index, default=State.SUCCESS
        )
    if kind == "if":
        return in_order(spec["then"] if decide == "true" else spec["else"])
    if kind == "switch":
        if decide != "a" and not spec["defaults"]:
            return State.FAILED  # as Kestra: no case matches and nothing by default
        return in_order(spec["a"] if decide == "a" else spec["defaults"])
    if kind == "foreach" and not decide:
        return State.SUCCESS  # no values
    return in_order(spec["tasks"])


def contribution(spec: Spec) -> State:
    """What a task's end means to the tasks around it: SUCCESS, WARNING or FAILED."""
    state = expected_state(spec)
    if state == State.FAILED:
        return State.WARNING if spec["allow"] else State.FAILED
    return State.WARNING if state == State.WARNING else State.SUCCESS


def in_order(specs: list[Spec]) -> State:
    warning = False
    for spec in specs:
        if spec["disabled"]:
            continue
        state = contribution(spec)
        if state == State.FAILED:
            return State.FAILED
        warning = warning or state == State.WARNING
    return State.WARNING if warning else State.SUCCESS


def expected_execution_state(spec: Spec) -> State:
    state = in_order(spec["tasks"])  # errors run on a failure, but change nothing
    if spec["finally"]:
        last = in_order(spec["finally"])
        if last == State.FAILED:
            return State.FAILED
        if last == State.WARNING and state == State.SUCCESS:
            return State.WARNING
    return state


CHILD_OK = flow("child-ok", log("fine"), extra="")
CHILD_FAIL = flow(
    "child-fail", "  - {id: boom, type: io.kestra.plugin.core.execution.Fail}\n", extra=""
)


@settings(
    max_examples=250,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=flows)
def test_every_random_flow_ends_in_the_state_its_language_says_with_every_task_ended(
    db: Any, spec: Spec
) -> None:
    save_flow(CHILD_OK)
    save_flow(CHILD_FAIL)
    source = Writer().flow(spec)
    note(source)
    execution = execution_start(flow=save_flow(source))
    drive(dies=lambda run: run.task_id.startswith("die"))
    assert inconsistencies(execution) == []
    assert execution.state == expected_execution_state(spec)
    for child in family(execution)[1:]:
        assert inconsistencies(child) == []
    for run in TaskRun.objects.filter(execution=execution, task_id__startswith="die"):
        assert run.state in (State.FAILED, State.SKIPPED)

"""Flow control on a real django-q2 cluster: Sequential, Parallel, If, Switch, ForEach,
Subflow, Pause, Fail, errors, finally, allowFailure, runIf, and outputs between tasks."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from executions.lifecycle import execution_resume, execution_start
from executions.models import Execution, State, TaskRun
from executions.upkeep import delayed_work_start
from tests.conftest import start_worker, wait_until
from tests.flows_helpers import PROCESS, ended, finished, messages, save_flow, started

pytestmark = pytest.mark.django_db(transaction=True)


def shell(task_id: str, *commands: str, indent: int = 2, extra: str = "") -> str:
    pad = " " * indent
    lines = [
        f"{pad}- id: {task_id}",
        f"{pad}  type: io.kestra.plugin.scripts.shell.Commands",
        f"{pad}  taskRunner:",
        f"{pad}    type: {PROCESS}",
        f"{pad}  commands:",
        *(f"{pad}    - {json.dumps(command)}" for command in commands),
    ]
    if extra:
        lines += [f"{pad}  {line}" for line in extra.strip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def log(task_id: str, message: str, indent: int = 2) -> str:
    pad = " " * indent
    return f'{pad}- id: {task_id}\n{pad}  type: io.kestra.plugin.core.log.Log\n{pad}  message: "{message}"\n'


def flow(flow_id: str, tasks: str, extra: str = "", namespace: str = "dev") -> str:
    return f"id: {flow_id}\nnamespace: {namespace}\n{extra}tasks:\n{tasks}"


def run(source: str, **kwargs) -> Execution:
    return finished(execution_start(flow=save_flow(source), **kwargs))


def runs(execution: Execution) -> dict[str, TaskRun]:
    return {run.path: run for run in execution.task_runs.all()}


def parent_id(run: TaskRun) -> str | None:
    """The task id of the flowable ``run`` ran inside, or None at the top level."""
    return run.parent.task_id if run.parent else None


def test_a_task_reads_the_outputs_of_the_task_before_it(worker) -> None:
    source = flow(
        "outputs-chain",
        shell("produce", """echo '::{"outputs": {"rows": 42}}::'""")
        + log(
            "consume", "rows={{ outputs.produce.vars.rows }} in {{ flow.namespace }}.{{ flow.id }}"
        ),
    )
    execution = run(source)
    assert execution.state == State.SUCCESS
    assert messages(execution) == ["rows=42 in dev.outputs-chain"]
    assert runs(execution)["produce"].outputs == {"exitCode": 0, "vars": {"rows": 42}}


def test_a_parallel_of_three_one_second_sleeps_on_two_workers_takes_well_under_three_seconds(
    worker,
) -> None:
    second = start_worker()
    try:
        branches = "".join(shell(f"sleep{i}", "sleep 1", indent=6) for i in range(3))
        source = flow(
            "parallel-sleeps",
            "  - id: together\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
            + branches,
        )
        execution = run(source)
    finally:
        second.stop()
    assert execution.state == State.SUCCESS
    sleeps = [r for r in execution.task_runs.all() if r.task_id.startswith("sleep")]
    assert len(sleeps) == 3 and all(parent_id(r) == "together" for r in sleeps)
    assert execution.duration is not None
    assert execution.duration.total_seconds() < 2.2, execution.duration
    assert len({r.worker for r in sleeps}) > 1  # each branch on a worker of its own


def test_a_parallel_with_a_concurrency_limit_runs_no_more_than_that_at_once(worker) -> None:
    branches = "".join(shell(f"b{i}", "sleep 0.3", indent=6) for i in range(4))
    source = flow(
        "parallel-limit",
        "  - id: two-at-a-time\n    type: io.kestra.plugin.core.flow.Parallel\n"
        "    concurrent: 2\n    tasks:\n" + branches,
    )
    execution = run(source)
    assert execution.state == State.SUCCESS
    spans = [(started(r), ended(r)) for r in execution.task_runs.filter(task_id__startswith="b")]
    for start, _ in spans:
        at_once = sum(1 for s, e in spans if s <= start < e)
        assert at_once <= 2


def test_if_runs_then_or_else_by_the_rendered_condition(worker) -> None:
    def branch(flow_id: str, condition: str) -> Execution:
        return run(
            flow(
                flow_id,
                f"  - id: check\n    type: io.kestra.plugin.core.flow.If\n"
                f'    condition: "{condition}"\n    then:\n'
                + log("then-log", "then ran", indent=6)
                + "    else:\n"
                + log("else-log", "else ran", indent=6),
                extra="variables:\n  size: 5\n",
            )
        )

    big = branch("if-true", "{{ vars.size > 3 }}")
    small = branch("if-false", "{{ vars.size > 10 }}")
    assert (big.state, messages(big)) == (State.SUCCESS, ["then ran"])
    assert (small.state, messages(small)) == (State.SUCCESS, ["else ran"])
    assert runs(big)["check"].outputs == {"evaluationResult": True}


def test_switch_runs_the_matching_case_or_the_defaults(worker) -> None:
    def switch(flow_id: str, value: str) -> Execution:
        return run(
            flow(
                flow_id,
                f"  - id: route\n    type: io.kestra.plugin.core.flow.Switch\n"
                f'    value: "{value}"\n    cases:\n      csv:\n'
                + log("as-csv", "csv", indent=8)
                + "      json:\n"
                + log("as-json", "json", indent=8)
                + "    defaults:\n"
                + log("other", "other", indent=6),
            )
        )

    assert messages(switch("switch-json", "json")) == ["json"]
    assert messages(switch("switch-none", "xml")) == ["other"]


def test_for_each_runs_its_tasks_once_per_value_with_the_value_available(worker) -> None:
    source = flow(
        "for-each",
        "  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
        '    values: ["a", "b", "c"]\n    concurrencyLimit: 0\n    tasks:\n'
        + shell("say", "echo value={{ taskrun.value }}", indent=6)
        + log(
            "after",
            "{{ outputs.say[taskrun.value].exitCode }}-{{ parent.taskrun.value }}",
            indent=6,
        ),
    )
    execution = run(source)
    assert execution.state == State.SUCCESS
    assert sorted(m for m in messages(execution) if m.startswith("value=")) == [
        "value=a",
        "value=b",
        "value=c",
    ]
    says = execution.task_runs.filter(task_id="say")
    assert sorted(str(v) for v in says.values_list("value", flat=True)) == ["a", "b", "c"]
    assert all(parent_id(r) == "each" for r in says)


def test_for_each_values_may_come_from_an_expression_and_run_one_at_a_time(worker) -> None:
    source = flow(
        "for-each-json",
        "  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n"
        '    values: "{{ vars.items }}"\n    tasks:\n' + shell("hold", "sleep 0.2", indent=6),
        extra="variables:\n  items: [1, 2, 3]\n",
    )
    execution = run(source)
    holds = sorted(execution.task_runs.filter(task_id="hold"), key=started)
    assert execution.state == State.SUCCESS
    assert [r.value for r in holds] == ["1", "2", "3"]
    for before, after in zip(holds, holds[1:], strict=False):
        assert ended(before) <= started(after)  # concurrencyLimit 1 is Kestra's default


def test_a_failed_task_runs_the_errors_branch_and_finally_and_fails_the_execution(worker) -> None:
    source = flow(
        "errors-finally",
        shell("broken", "exit 3") + log("skipped", "never"),
        extra="errors:\n"
        + log("alert", "failed: {{ execution.id }}")
        + "finally:\n"
        + log("cleanup", "cleanup ran"),
    )
    execution = run(source)
    assert execution.state == State.FAILED
    found = messages(execution)
    assert f"failed: {execution.pk}" in found and "cleanup ran" in found and "never" not in found


def test_allow_failure_lets_the_flow_go_on_and_end_in_warning(worker) -> None:
    source = flow(
        "allow-failure",
        shell("flaky", "exit 1", extra="allowFailure: true") + log("next", "went on"),
    )
    execution = run(source)
    assert execution.state == State.WARNING
    assert "went on" in messages(execution)
    assert runs(execution)["flaky"].state == State.FAILED


def test_a_fail_task_fails_the_execution_with_its_message(worker) -> None:
    source = flow(
        "fail-task",
        "  - id: stop\n    type: io.kestra.plugin.core.execution.Fail\n"
        '    condition: "{{ vars.bad }}"\n    errorMessage: "Bad data: {{ vars.bad }}"\n',
        extra="variables:\n  bad: true\n",
    )
    execution = run(source)
    assert execution.state == State.FAILED
    assert runs(execution)["stop"].error == "Bad data: true"


def test_run_if_false_skips_a_task(worker) -> None:
    source = flow(
        "run-if",
        shell("maybe", "echo ran", extra='runIf: "{{ vars.enabled }}"') + log("next", "next"),
        extra="variables:\n  enabled: false\n",
    )
    execution = run(source)
    assert execution.state == State.SUCCESS
    assert runs(execution)["maybe"].state == State.SKIPPED
    assert messages(execution) == ["next"]


def test_a_render_error_fails_the_task_naming_the_expression(worker) -> None:
    execution = run(flow("render-error", log("greet", "Hello {{ inputs.nobody }}")))
    assert execution.state == State.FAILED
    error = runs(execution)["greet"].error
    assert "{{ inputs.nobody }}" in error and "nobody" in error


def test_a_subflow_runs_its_child_and_passes_its_outputs_back(worker) -> None:
    save_flow(
        flow(
            "child",
            "  - id: answer\n    type: io.kestra.plugin.core.debug.Return\n"
            '    format: "{{ inputs.who }}!"\n',
            extra="inputs:\n  - id: who\n    type: STRING\n"
            'outputs:\n  - id: shout\n    type: STRING\n    value: "{{ outputs.answer.value }}"\n',
        )
    )
    source = flow(
        "parent",
        "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: dev\n"
        "    flowId: child\n    inputs:\n      who: world\n"
        + log("use", "child said {{ outputs.call.outputs.shout }}"),
    )
    execution = run(source)
    assert execution.state == State.SUCCESS, runs(execution)
    # In the log, not necessarily last: the Subflow task's own "Started subflow" line is
    # stored when its worker finishes it, which may come after the child and "use" ran.
    assert "child said world!" in messages(execution)
    child = Execution.objects.get(pk=runs(execution)["call"].outputs["executionId"])
    assert child.parent_task_run is not None
    assert child.parent_task_run.execution_id == execution.pk
    assert child.outputs == {"shout": "world!"}


def test_a_failing_subflow_fails_its_parent_unless_transmit_failed_is_off(worker) -> None:
    save_flow(flow("failing-child", shell("boom", "exit 2")))
    call = (
        "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: dev\n"
        "    flowId: failing-child\n"
    )
    strict = run(flow("strict-parent", call))
    lenient = run(flow("lenient-parent", call + "    transmitFailed: false\n"))
    assert strict.state == State.FAILED
    assert lenient.state == State.SUCCESS


def test_a_pause_waits_until_resumed(worker) -> None:
    source = flow(
        "pause-resume",
        "  - id: approve\n    type: io.kestra.plugin.core.flow.Pause\n" + log("go", "resumed"),
    )
    execution = execution_start(flow=save_flow(source))

    def paused() -> bool:
        execution.refresh_from_db()
        return execution.state == State.PAUSED

    wait_until(paused, timeout=30, what="the execution to pause")
    assert messages(execution) == ["Paused until resumed"]
    execution_resume(execution_id=execution.pk)
    execution = finished(execution)
    assert execution.state == State.SUCCESS
    assert messages(execution)[-1] == "resumed"


def test_a_pause_with_a_duration_resumes_by_itself_on_the_clock(worker) -> None:
    source = flow(
        "pause-duration",
        "  - id: wait\n    type: io.kestra.plugin.core.flow.Pause\n    pauseDuration: PT1H\n"
        + log("go", "resumed"),
    )
    execution = execution_start(flow=save_flow(source))

    def paused() -> bool:
        execution.refresh_from_db()
        return execution.state == State.PAUSED

    wait_until(paused, timeout=30, what="the execution to pause")
    delayed_work_start(timezone.now())
    execution.refresh_from_db()
    assert execution.state == State.PAUSED  # an hour is not over
    delayed_work_start(timezone.now() + timedelta(hours=1, seconds=1))
    assert finished(execution).state == State.SUCCESS


def test_a_sequential_runs_its_tasks_in_order_inside_a_parallel_branch(worker) -> None:
    chain = (
        "      - id: chain\n        type: io.kestra.plugin.core.flow.Sequential\n        tasks:\n"
        + shell("one", "sleep 0.2", "echo one", indent=10)
        + shell("two", "echo two", indent=10)
    )
    source = flow(
        "sequential",
        "  - id: both\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
        + chain
        + shell("alone", "echo alone", indent=6),
    )
    execution = run(source)
    found = runs(execution)
    assert execution.state == State.SUCCESS
    assert ended(found["both/chain/one"]) <= started(found["both/chain/two"])
    assert parent_id(found["both/chain/two"]) == "chain"


def test_a_subflow_that_does_not_wait_succeeds_at_once_with_the_child_id(worker) -> None:
    save_flow(flow("slow-child", shell("hold", "sleep 2")))
    source = flow(
        "no-wait",
        "  - id: call\n    type: io.kestra.plugin.core.flow.Subflow\n    namespace: dev\n"
        "    flowId: slow-child\n    wait: false\n",
    )
    execution = run(source)
    child = Execution.objects.get(pk=runs(execution)["call"].outputs["executionId"])
    assert execution.state == State.SUCCESS
    assert not child.is_terminal or ended(child) > ended(execution)
    assert finished(child).state == State.SUCCESS


def test_switch_cases_written_as_numbers_match_the_rendered_text(worker) -> None:
    source = flow(
        "switch-numbers",
        '  - id: route\n    type: io.kestra.plugin.core.flow.Switch\n    value: "{{ vars.n }}"\n'
        "    cases:\n      1:\n"
        + log("one", "one", indent=8)
        + "      2:\n"
        + log("two", "two", indent=8),
        extra="variables:\n  n: 1\n",
    )
    assert messages(run(source)) == ["one"]


def test_read_gives_a_stored_file_of_this_execution_and_refuses_another_namespace_s(
    worker,
) -> None:
    export = shell("export", "printf 'hello file' > a.txt", extra="outputFiles:\n  - a.txt")
    mine = run(
        flow(
            "read-own",
            export + log("show", "{{ read(outputs.export.outputFiles['a.txt']) }}"),
        )
    )
    assert (mine.state, messages(mine)) == (State.SUCCESS, ["hello file"])
    uri = runs(mine)["export"].outputs["outputFiles"]["a.txt"]
    other = run(flow("read-other", log("peek", f"{{{{ read('{uri}') }}}}"), namespace="company"))
    assert other.state == State.FAILED
    assert "namespace company may not read files of dev" in runs(other)["peek"].error

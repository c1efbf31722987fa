"""The Dag task on a real django-q2 cluster: dependency order, concurrency, failure."""

from __future__ import annotations

import pytest

from executions.lifecycle import execution_start
from executions.models import State
from flows.models import Flow
from tests.executions.extras_helpers import FAIL, LOG, example, run, runs
from tests.flows_helpers import ended, finished, messages, started

pytestmark = pytest.mark.django_db(transaction=True)


# --- Dag ----------------------------------------------------------------------------------


DAG = f"""
id: dag
namespace: dev
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    concurrent: CONCURRENT
    tasks:
      - task:
          id: task1
          type: {LOG}
          message: "{{{{ task.id }}}}"
      - task:
          id: task2
          type: {LOG}
          message: "{{{{ task.id }}}}"
        dependsOn: [task1]
      - task:
          id: task3
          type: io.kestra.plugin.core.flow.Sequential
          tasks:
            - id: task3a
              type: {LOG}
              message: "{{{{ task.id }}}}"
        dependsOn: [task1]
      - task:
          id: task4
          type: {LOG}
          message: "{{{{ task.id }}}}"
        dependsOn: [task2]
      - task:
          id: task5
          type: {LOG}
          message: "{{{{ task.id }}}}"
        dependsOn: [task4, task3]
"""


def test_a_dag_starts_each_task_only_after_those_it_depends_on_ended(worker) -> None:
    execution = run(DAG.replace("CONCURRENT", "0"))
    by_id = runs(execution)
    assert execution.state == State.SUCCESS
    assert set(by_id) == {"dag", "task1", "task2", "task3", "task3a", "task4", "task5"}
    for task_id, depends_on in {
        "task2": ["task1"],
        "task3": ["task1"],
        "task4": ["task2"],
        "task5": ["task4", "task3"],
    }.items():
        for dependency in depends_on:
            assert ended(by_id[dependency]) <= started(by_id[task_id]), (task_id, dependency)


def test_a_dag_with_concurrent_one_never_runs_two_of_its_tasks_at_once(worker) -> None:
    execution = run(
        DAG.replace("CONCURRENT", "1").replace("id: dag\nnamespace", "id: dag1\nnamespace")
    )
    assert execution.state == State.SUCCESS
    children = sorted(
        (run for run in execution.task_runs.all() if run.parent and run.parent.task_id == "dag"),
        key=started,
    )
    assert len(children) == 5
    for before, after in zip(children, children[1:], strict=False):
        assert ended(before) <= started(after), (before.task_id, after.task_id)


def test_a_failed_task_in_a_dag_starts_none_of_its_dependents_and_fails_the_dag(worker) -> None:
    execution = run(f"""
id: dag-failing
namespace: dev
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: broken
          type: {FAIL}
      - task:
          id: dependent
          type: {LOG}
          message: never
        dependsOn: [broken]
""")
    assert execution.state == State.FAILED
    assert set(runs(execution)) == {"dag", "broken"}
    assert runs(execution)["dag"].state == State.FAILED


def test_the_dag_pipeline_example_joins_once_both_fetches_ended_then_publishes_and_archives(
    worker,
) -> None:
    execution = finished(execution_start(flow=Flow.save_source(example("dag-pipeline"))))
    by_id = runs(execution)
    assert execution.state == State.SUCCESS
    assert messages(execution)[0] == "Joined 120 orders with 45 customers"
    for fetch in ("fetch_orders", "fetch_customers"):
        assert ended(by_id[fetch]) <= started(by_id["join"])
    for last in ("publish", "archive"):
        assert ended(by_id["join"]) <= started(by_id[last])


def test_the_execution_page_draws_each_task_of_a_dag_with_its_state(worker, client, alice) -> None:
    execution = run(
        DAG.replace("CONCURRENT", "0").replace("id: dag\nnamespace", "id: dag2\nnamespace")
    )
    client.force_login(alice)
    response = client.get(f"/executions/{execution.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    for task_id in ("task1", "task2", "task3", "task3a", "task4", "task5"):
        assert f'class="run-node node-SUCCESS" data-node="{task_id}"' in page, task_id

"""What expressions see: Kestra's variables for one task run of an execution.

``{{ inputs.x }}``, ``{{ vars.x }}``, ``{{ outputs.task.vars.k }}``, ``{{ execution.id }}``,
``{{ flow.namespace }}``, ``{{ taskrun.value }}``, ``{{ parent.taskrun.value }}``,
``{{ trigger.date }}``, ``{{ labels.team }}``, ``{{ namespace.x }}``, and the functions
``secret('NAME')``, ``read(uri or namespace file path)`` and ``kv('key')``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flows.language import FlowDefinition
from flowsite.values import format_instant
from namespaces.lookup import namespace_secrets, namespace_variables

from .models import Execution, TaskRun
from .namespace_store import kv_for_expression, namespace_file_for_expression
from .storage import SCHEME, storage_read_for


class SecretMissing(Exception):
    pass


def _iso(moment: Any) -> str | None:
    return format_instant(moment) if moment else None


def task_outputs(runs: list[TaskRun]) -> dict[str, Any]:
    """``outputs.<task>``; a task run inside a ForEach is under its loop value:
    ``outputs.<task>[<value>]``."""
    outputs: dict[str, Any] = {}
    for run in sorted(runs, key=lambda r: (r.created_at, r.position)):
        if not run.outputs:
            continue
        if run.value is None:
            outputs[run.task_id] = run.outputs
        else:
            slot = outputs.setdefault(run.task_id, {})
            if isinstance(slot, dict):
                slot[run.value] = run.outputs
    return outputs


def render_context(
    execution: Execution,
    definition: FlowDefinition,
    runs: list[TaskRun],
    run: TaskRun | None,
    *,
    on_secret: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    namespace = execution.namespace
    context: dict[str, Any] = {
        "flow": {
            "id": execution.flow_id,
            "namespace": namespace,
            "revision": execution.flow_revision.revision,
        },
        "execution": {
            "id": execution.pk,
            "startDate": _iso(execution.started_at or execution.created_at),
            "originalId": execution.original_id or execution.pk,
            "state": execution.state,
        },
        "inputs": execution.inputs or {},
        "vars": definition.variables,
        "labels": execution.labels or {},
        "outputs": task_outputs(runs),
        "trigger": (execution.trigger or {}).get("variables", {}),
        "namespace": namespace_variables(namespace),
    }
    if run is not None:
        by_id = {r.pk: r for r in runs}
        context["task"] = {"id": run.task_id, "type": run.task_type}
        context["taskrun"] = _taskrun(run)
        parents = []
        parent = by_id.get(run.parent_id) if run.parent_id else None
        while parent is not None:
            parents.append({"taskrun": _taskrun(parent), "outputs": parent.outputs})
            parent = by_id.get(parent.parent_id) if parent.parent_id else None
        if parents:
            context["parent"] = parents[0]
            context["parents"] = parents

    secrets_cache: dict[str, str] | None = None

    def secret(name: str) -> str:
        nonlocal secrets_cache
        if secrets_cache is None:
            secrets_cache = namespace_secrets(namespace)
        if name not in secrets_cache:
            raise SecretMissing(f"No secret named '{name}' in namespace {namespace} or its parents")
        value = secrets_cache[name]
        if on_secret is not None:
            on_secret(value)
        return value

    def read(uri: str, namespace: str | None = None) -> str:
        if not str(uri).startswith(SCHEME):  # a namespace file: read('scripts/q.sql')
            return namespace_file_for_expression(execution, str(uri), namespace)
        # Asked in accounts.reach: its own files, its namespace's and those it was
        # allowed to reach, and files its parent passed in.
        data = storage_read_for(execution, str(uri), what=f"read('{uri}')")
        return data.decode("utf-8", errors="replace")

    def kv(key: str, namespace: str | None = None, errorOnMissing: bool = True) -> Any:  # noqa: N803 - Kestra's name
        return kv_for_expression(execution, key, namespace, errorOnMissing)

    context["secret"] = secret
    context["read"] = read
    context["kv"] = kv
    return context


def _taskrun(run: TaskRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "taskId": run.task_id,
        "value": run.value,
        "parentId": run.parent_id,
        "startDate": _iso(run.started_at),
        "attemptsCount": max(run.attempt - 1, 0),
        "state": run.state,
    }

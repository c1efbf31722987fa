"""What expressions see: Kestra's variables for one task run of an execution.

``{{ inputs.x }}``, ``{{ vars.x }}``, ``{{ outputs.task.vars.k }}``, ``{{ execution.id }}``,
``{{ flow.namespace }}``, ``{{ taskrun.value }}``, ``{{ parent.taskrun.value }}``,
``{{ trigger.date }}``, ``{{ labels.team }}``, ``{{ labels.system.correlationId }}``,
``{{ namespace.x }}``, ``{{ envs.name }}``, ``{{ taskrun.iteration }}`` (a LoopUntil's
turn), and the functions ``secret('NAME')``, ``read(uri or namespace file path)``,
``kv('key')``, ``errorLogs()`` and ``currentEachOutput(outputs.t)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings

from flows.language import FlowDefinition
from flows.language.tasks import TASK_TYPES, ForEachItemTask, WorkingDirectoryTask
from flowsite.values import format_instant
from namespaces.crypto import decrypt
from namespaces.lookup import namespace_secrets, namespace_variables

from .models import Execution, LogLine, TaskRun
from .namespace_store import kv_for_expression, namespace_file_for_expression
from .secret_inputs import secret_inputs_open
from .storage import SCHEME, storage_read_for

FOR_EACH_ITEM_TYPES = ForEachItemTask.type_names()
WORKING_DIRECTORY_TYPES = WorkingDirectoryTask.type_names()
ENV_PREFIX = "FLOWSITE_ENV_"
ERROR_LOGS_MAX = 100
ENCRYPTED = "io.kestra.datatype:aes_encrypted"


class SecretMissing(Exception):
    pass


def _iso(moment: Any) -> str | None:
    return format_instant(moment) if moment else None


def task_outputs(runs: list[TaskRun]) -> dict[str, Any]:
    """``outputs.<task>``, as Kestra nests them: a task run inside a loop over values
    (ForEach...) is under the values it ran for, outer ones first:
    ``outputs.<task>[<value>]``, ``outputs.<task>[<outer>][<inner>]``."""
    by_id = {run.pk: run for run in runs}
    outputs: dict[str, Any] = {}
    for run in sorted(runs, key=lambda r: (r.created_at, r.position)):
        if not run.outputs:
            continue
        keys = [*own_values(_ancestors(run, by_id), by_id), *own_values([run], by_id)]
        if not keys:
            outputs[run.task_id] = _decrypted(run.outputs)
            if run.task_type in FOR_EACH_ITEM_TYPES:  # Kestra's names for its inner tasks
                outputs[f"{run.task_id}_items"] = run.outputs
                outputs[f"{run.task_id}_merge"] = {
                    "subflowOutputs": run.outputs.get("subflowOutputs")
                }
            continue
        slot = outputs.setdefault(run.task_id, {})
        for key in keys[:-1]:
            slot = slot.setdefault(key, {}) if isinstance(slot, dict) else {}
        if isinstance(slot, dict):
            slot[keys[-1]] = _decrypted(run.outputs)
    return outputs


def _ancestors(run: TaskRun, by_id: dict[str, TaskRun]) -> list[TaskRun]:
    """The runs ``run`` is inside, outermost first."""
    chain: list[TaskRun] = []
    parent = by_id.get(run.parent_id) if run.parent_id else None
    while parent is not None:
        chain.append(parent)
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
    return chain[::-1]


def own_values(runs: list[TaskRun], by_id: dict[str, TaskRun]) -> list[str]:
    """The loop values ``runs`` were started for: a run's value is its own when its
    parent loops over values; tasks nested deeper only carry it along."""
    values = []
    for run in runs:
        parent = by_id.get(run.parent_id) if run.parent_id else None
        model = TASK_TYPES.get(parent.task_type) if parent is not None else None
        if run.value is not None and getattr(model, "iterates_values", False):
            values.append(run.value)
    return values


def current_each_output(outputs: Any, run: TaskRun, by_id: dict[str, TaskRun]) -> Any:
    """Kestra's ``currentEachOutput(outputs.t)``: the outputs of ``t`` for the loop
    values the calling task runs for, outer ones first."""
    if not isinstance(outputs, dict):
        raise ValueError("currentEachOutput() expects the outputs of a task, e.g. outputs.first")
    current: Any = outputs
    for value in own_values([*_ancestors(run, by_id), run], by_id):
        if isinstance(current, dict) and value in current:
            current = current[value]
    return current


def _decrypted(outputs: Any) -> Any:
    """Outputs as expressions see them: an encrypted value (http.Request's
    ``encryptBody``) in clear, as Kestra decrypts it for the tasks that read it."""
    if not isinstance(outputs, dict) or not any(
        isinstance(value, dict) and value.get("type") == ENCRYPTED for value in outputs.values()
    ):
        return outputs
    return {key: _clear(value) for key, value in outputs.items()}


def _clear(value: Any) -> Any:
    if not isinstance(value, dict) or value.get("type") != ENCRYPTED:
        return value
    try:
        return decrypt(str(value.get("value")))
    except (InvalidToken, ValueError):  # encrypted under a key no longer configured
        return value


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
        "inputs": secret_inputs_open(execution.inputs or {}, on_secret),
        "vars": definition.variables,
        "labels": _labels(execution.labels or {}),
        "outputs": task_outputs(runs),
        "trigger": (execution.trigger or {}).get("variables", {}),
        "namespace": namespace_variables(namespace),
    }
    if run is not None:
        by_id = {r.pk: r for r in runs}
        context["task"] = {"id": run.task_id, "type": run.task_type}
        context["taskrun"] = _taskrun(run)
        iteration = _iteration(run, by_id)
        if iteration is not None:
            context["taskrun"]["iteration"] = iteration
        context["currentEachOutput"] = lambda outputs: current_each_output(outputs, run, by_id)
        parents = []
        parent = by_id.get(run.parent_id) if run.parent_id else None
        in_workdir = False
        while parent is not None:
            parents.append({"taskrun": _taskrun(parent), "outputs": parent.outputs})
            in_workdir = in_workdir or parent.task_type in WORKING_DIRECTORY_TYPES
            parent = by_id.get(parent.parent_id) if parent.parent_id else None
        if in_workdir:  # Kestra's name for the task run a WorkingDirectory's task runs as
            context["workerTaskrun"] = context["taskrun"]
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

    def error_logs() -> list[dict[str, Any]]:
        # Kestra's errorLogs(): the execution's ERROR lines so far, for an errors branch.
        lines = LogLine.objects.filter(execution_id=execution.pk, level="ERROR").order_by("id")
        return [_log_entry(execution, line) for line in lines[:ERROR_LOGS_MAX]]

    def kv(key: str, namespace: str | None = None, errorOnMissing: bool = True) -> Any:  # noqa: N803 - Kestra's name
        return kv_for_expression(execution, key, namespace, errorOnMissing)

    context["secret"] = secret
    context["read"] = read
    context["errorLogs"] = error_logs
    context["envs"] = envs()
    context["globals"] = settings.FLOWSITE_GLOBALS
    context["kv"] = kv
    return context


def envs() -> dict[str, str]:
    """``{{ envs.name }}``: the server's environment variables named FLOWSITE_ENV_<NAME>,
    and only those (Kestra reads ENV_<NAME>; an operator allows each one by naming it)."""
    return {
        name.removeprefix(ENV_PREFIX).lower(): value
        for name, value in os.environ.items()
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX)
    }


def _log_entry(execution: Execution, line: LogLine) -> dict[str, Any]:
    return {
        "namespace": execution.namespace,
        "flowId": execution.flow_id,
        "executionId": execution.pk,
        "taskId": line.task_id or None,
        "taskRunId": line.task_run_id,
        "attemptNumber": line.attempt,
        "timestamp": _iso(line.timestamp),
        "level": line.level,
        "message": line.message,
    }


def _labels(labels: dict[str, Any]) -> dict[str, Any]:
    """``labels.x``, and Kestra's system labels under ``labels.system``
    (``{{ labels.system.correlationId }}``)."""
    system = {k.removeprefix("system."): v for k, v in labels.items() if k.startswith("system.")}
    return {**labels, "system": system} if system else labels


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


def _iteration(run: TaskRun, by_id: dict[str, TaskRun]) -> int | None:
    """Inside LoopUntil, which turn this run belongs to (from 1), read from its path:
    ``loop[2]/task`` is the second."""
    parent = by_id.get(run.parent_id) if run.parent_id else None
    if parent is None or not run.path.startswith(parent.path + "["):
        return None
    if getattr(TASK_TYPES.get(parent.task_type), "iterates_values", False):
        return None  # a loop over values: its children have a value, not a turn
    turn = run.path[len(parent.path) + 1 :].split("]", 1)[0]
    return int(turn) if turn.isdigit() else None

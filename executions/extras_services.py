"""What the state store, Resume and trigger Toggle tasks ask of the worker: the Runtime
methods behind them, mixed into WorkerRuntime. Each stays within what the execution's
namespace may reach (accounts/reach.py), and says so when it may not."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import audit_execution_steered, audit_trigger_changed
from accounts.reach import CrossingRefused, reaches, refusal
from flows.models import Flow
from triggers.models import TriggerState

from .lifecycle import NotAllowed, execution_resume
from .models import Execution, StoredState, TaskRun
from .runners.base import TaskError


def state_merged(current: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """``current`` with ``data`` merged in: mappings key by key, all else replaced."""
    merged = dict(current)
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = state_merged(merged[key], value)
        else:
            merged[key] = value
    return merged


class ExtraServices:
    """Mixed into WorkerRuntime, which sets these two."""

    task_run: TaskRun
    execution: Execution

    # --- the state store --------------------------------------------------------------

    def _state_where(self, name: str, flow_scoped: bool, per_value: bool) -> dict[str, str]:
        value = self.task_run.value if per_value else None
        return {
            "namespace": self.execution.namespace,
            "flow_id": self.execution.flow_id if flow_scoped else "",
            "name": name,
            "value_key": hashlib.sha256(value.encode()).hexdigest() if value is not None else "",
        }

    def state_get(self, *, name: str, flow_scoped: bool, per_value: bool) -> dict[str, Any] | None:
        where = self._state_where(name, flow_scoped, per_value)
        return StoredState.objects.filter(**where).values_list("data", flat=True).first()

    def state_merge(
        self, *, name: str, flow_scoped: bool, per_value: bool, data: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        where = self._state_where(name, flow_scoped, per_value)
        for _ in range(2):  # a first write racing another's: the second try finds its row
            try:
                with transaction.atomic():
                    row = StoredState.objects.select_for_update().filter(**where).first()
                    if row is None:
                        row = StoredState.objects.create(**where, data=data)
                    else:
                        row.data, row.updated_at = state_merged(row.data, data), timezone.now()
                        row.save(update_fields=["data", "updated_at"])
                    break
            except IntegrityError:
                continue
        else:
            raise TaskError(f"State '{name}' could not be stored: others kept writing it")
        scope = where["flow_id"] or "*"
        key = f"{where['namespace']}/{scope}/states/{name}" + (
            f"/{where['value_key'][:16]}" if where["value_key"] else ""
        )
        return key, row.data

    def state_delete(self, *, name: str, flow_scoped: bool, per_value: bool) -> bool:
        where = self._state_where(name, flow_scoped, per_value)
        deleted, _ = StoredState.objects.filter(**where).delete()
        return deleted > 0

    # --- steering -----------------------------------------------------------------------

    def execution_resume(
        self,
        *,
        execution_id: str | None,
        namespace: str | None,
        flow_id: str | None,
        inputs: dict[str, Any],
    ) -> str:
        own = self.execution.namespace
        if namespace and not reaches(own, namespace):  # asked before looking anything up
            raise CrossingRefused(
                f"Resume refused: {refusal(own, namespace, 'resume executions of')}"
            )
        wanted = Execution.objects.filter(pk=execution_id or self.execution.pk)
        if namespace:
            wanted = wanted.filter(namespace=namespace)
        if flow_id:
            wanted = wanted.filter(flow_id=flow_id)
        target = wanted.first()
        # One answer for "none" and "not yours": a refusal tells nothing of what exists.
        if target is None or not reaches(own, target.namespace):
            raise TaskError(
                f"No execution {execution_id} found that namespace {own} may resume"
                + (f" (in {namespace}{'.' + flow_id if flow_id else ''})" if namespace else "")
            )
        if inputs:
            raise TaskError(
                "Resume with inputs needs a Pause task with onResume inputs, "
                "which Flowsite does not support yet"
            )
        try:
            execution_resume(execution_id=target.pk)
        except NotAllowed as exc:
            raise TaskError(str(exc)) from exc
        audit_execution_steered(
            actor=None,
            execution=target,
            action="resumed",
            summary=f"by task {self.task_run.task_id} of execution {self.execution.pk}",
        )
        return target.pk

    def trigger_toggle(
        self, *, namespace: str | None, flow_id: str | None, trigger_id: str, enabled: bool
    ) -> str:
        own = self.execution.namespace
        namespace, flow_id = namespace or own, flow_id or self.execution.flow_id
        if not reaches(own, namespace):
            raise CrossingRefused(
                f"Toggle refused: {refusal(own, namespace, 'toggle the triggers of')}"
            )
        if not Flow.objects.live().filter(namespace=namespace, flow_id=flow_id).exists():
            raise TaskError(f"Unable to find flow {namespace}.{flow_id}")
        with transaction.atomic():
            state = (
                TriggerState.objects.select_for_update()
                .filter(namespace=namespace, flow_id=flow_id, trigger_id=trigger_id)
                .first()
            )
            if state is None:
                raise TaskError(f"Flow {namespace}.{flow_id} has no trigger '{trigger_id}'")
            if state.disabled == enabled:  # only a change re-arms a schedule
                state.set_disabled(not enabled)
                audit_trigger_changed(
                    actor=None,
                    namespace=namespace,
                    flow_id=flow_id,
                    trigger_id=trigger_id,
                    action="enabled" if enabled else "disabled",
                    summary=f"by task {self.task_run.task_id} of execution {self.execution.pk}",
                )
        return f"{namespace}.{flow_id}"

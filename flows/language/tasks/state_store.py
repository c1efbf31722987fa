"""Kestra's deprecated state store (``state.Set``, ``Get``, ``Delete``): a JSON document
kept between executions, per flow (or per namespace) and name, and by default per loop
value too. Superseded in Kestra by the KV store; kept so that older flows run."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..states import State
from .base import BaseTask, Outcome, Runtime


class _StateTask(BaseTask):
    name: str = Field("default", description="Name of the state")
    namespace: bool = Field(
        False, description="Shared by the namespace's flows rather than kept for this flow"
    )
    taskrun_value: bool = Field(
        True, description="Kept apart for each loop value ({{ taskrun.value }})"
    )

    def _where(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "flow_scoped": not self.namespace,
            "per_value": self.taskrun_value,
        }


class StateSetTask(_StateTask):
    """Merges ``data`` into the state: keys given replace those stored, others stay."""

    type: Literal["io.kestra.plugin.core.state.Set", "io.kestra.core.tasks.states.Set"]
    data: dict[str, Any] = Field(default_factory=dict, description="Values to store")

    def run(self, runtime: Runtime) -> Outcome:
        key, merged = runtime.state_merge(**self._where(), data=self.data)
        return Outcome(State.SUCCESS, outputs={"count": len(merged), "key": key})


class StateGetTask(_StateTask):
    """Reads the state into ``outputs.<id>.data`` (empty when there is none)."""

    type: Literal["io.kestra.plugin.core.state.Get", "io.kestra.core.tasks.states.Get"]
    error_on_missing: bool = Field(False, description="Fail when there is no such state")

    def run(self, runtime: Runtime) -> Outcome:
        data = runtime.state_get(**self._where())
        if data is None and self.error_on_missing:
            message = f"Unable to find the state '{self.name}'"
            runtime.log(message, "ERROR")
            return Outcome(State.FAILED, error=message)
        data = data or {}
        return Outcome(State.SUCCESS, outputs={"count": len(data), "data": data})


class StateDeleteTask(_StateTask):
    """Deletes the state; ``outputs.<id>.deleted`` says whether there was one."""

    type: Literal["io.kestra.plugin.core.state.Delete", "io.kestra.core.tasks.states.Delete"]
    error_on_missing: bool = Field(False, description="Fail when there is no such state")

    def run(self, runtime: Runtime) -> Outcome:
        deleted = runtime.state_delete(**self._where())
        if not deleted and self.error_on_missing:
            message = f"Unable to find the state '{self.name}'"
            runtime.log(message, "ERROR")
            return Outcome(State.FAILED, error=message)
        return Outcome(State.SUCCESS, outputs={"deleted": deleted})

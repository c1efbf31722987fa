"""Tasks that steer other executions and triggers: Resume and trigger Toggle. Each
reaches only what the execution's namespace may (accounts/reach.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..states import State
from .base import BaseTask, Outcome, Runtime


class ResumeTask(BaseTask):
    """Resumes a paused execution: by default this one (a branch paused beside it)."""

    type: Literal["io.kestra.plugin.core.execution.Resume"]
    execution_id: str | None = Field(None, description="The execution; default: this one")
    namespace: str | None = Field(None, description="The namespace it must be in")
    flow_id: str | None = Field(None, description="The flow it must be of")
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Values for the paused task's onResume inputs"
    )

    def run(self, runtime: Runtime) -> Outcome:
        resumed = runtime.execution_resume(
            execution_id=self.execution_id,
            namespace=self.namespace,
            flow_id=self.flow_id,
            inputs=self.inputs,
        )
        runtime.log(f"Resumed execution {resumed}")
        return Outcome(State.SUCCESS)


class ToggleTask(BaseTask):
    """Enables or disables a trigger of a flow (by default, of this flow)."""

    type: Literal["io.kestra.plugin.core.trigger.Toggle", "io.kestra.core.tasks.trigger.Toggle"]
    trigger: str = Field(description="Id of the trigger")
    enabled: bool = Field(False, description="Enable it (true) or disable it (false)")
    namespace: str | None = Field(None, description="Namespace of the flow; default: this one")
    flow_id: str | None = Field(None, description="Id of the flow; default: this one")

    def run(self, runtime: Runtime) -> Outcome:
        flow = runtime.trigger_toggle(
            namespace=self.namespace,
            flow_id=self.flow_id,
            trigger_id=self.trigger,
            enabled=self.enabled,
        )
        runtime.log(
            f"Trigger '{self.trigger}' of {flow} {'enabled' if self.enabled else 'disabled'}"
        )
        return Outcome(State.SUCCESS)

"""The Subflow task: runs another flow as a child execution, and waits for it."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from ..states import State
from ..values import values_as_text
from .base import BaseTask, ChildExecution, Outcome, Runtime


class SubflowTask(BaseTask):
    """Runs another flow as a child execution."""

    type: Literal["io.kestra.plugin.core.flow.Subflow", "io.kestra.core.tasks.flows.Subflow"]
    namespace: str = Field(description="Namespace of the flow to run")
    flow_id: str = Field(description="Id of the flow to run")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Inputs of the child")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of the child")
    wait: bool = Field(True, description="Wait for the child execution to end")
    transmit_failed: bool = Field(True, description="Fail when the child execution fails")
    inherit_labels: bool = Field(False, description="Give the child this execution's labels")
    outputs: dict[str, Any] | None = Field(
        None,
        description="Values rendered in the child execution's context once it ended, as "
        "outputs.<id>.outputs.<key>; a child flow's declared outputs take precedence",
    )

    # While it waits for its child, no worker holds it.
    holds_worker: ClassVar[bool] = False

    # Rendered in the child's context after it ended (executions/subflow_outputs.py).
    rendered_later: ClassVar[tuple[str, ...]] = ("outputs",)

    _labels_as_text = field_validator("labels", mode="before")(values_as_text)

    def run(self, runtime: Runtime) -> Outcome:
        child = runtime.start_subflow(
            namespace=self.namespace,
            flow_id=self.flow_id,
            inputs=self.inputs,
            labels=self.labels,
            inherit_labels=self.inherit_labels,
        )
        runtime.log(f"Started subflow {self.namespace}.{self.flow_id}: execution {child.pk}")
        outputs = {"executionId": child.pk}
        if not self.wait:
            return Outcome(State.SUCCESS, outputs=outputs)
        if child.is_terminal:  # it may end at once (concurrency limit, an empty branch)
            state, outputs = self.state_after(child), runtime.subflow_outputs(self, child)
            return Outcome(state, outputs=outputs, error=self.error_after(child))
        return Outcome(State.RUNNING, outputs=outputs)

    def state_after(self, child: ChildExecution) -> State:
        """Its state once its child ended: the child's, unless it does not transmit a
        failure; a CANCELLED child counts as a failure."""
        if child.state not in (State.FAILED, State.KILLED, State.CANCELLED):
            return State(child.state)
        if not self.transmit_failed:
            return State.SUCCESS
        return State.FAILED if child.state == State.CANCELLED else State(child.state)

    def error_after(self, child: ChildExecution) -> str:
        """Why it failed, when its child's end failed it."""
        if self.state_after(child) != State.FAILED:
            return ""
        return f"Its child execution {child.pk} ended {child.state}"

    @staticmethod
    def outputs_after(child: ChildExecution) -> dict[str, Any]:
        """``outputs.<subflow task>``: the child's id and, once it ended, its state and
        outputs."""
        if not child.is_terminal:
            return {"executionId": child.pk}
        return {"executionId": child.pk, "state": child.state, "outputs": child.outputs}

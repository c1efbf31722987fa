"""ForEachItem: splits a stored file into batches of lines and runs a subflow for each
batch, its inputs rendered with ``{{ taskrun.items }}`` (the batch's file) and
``{{ taskrun.iteration }}`` (its number, from 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from ..model import LanguageModel
from ..states import State
from ..values import MemorySize, values_as_text
from .base import BaseTask, ChildExecution, Outcome, Runtime


def _count_or_expression(value: Any) -> Any:
    # An expression ({{ inputs.batch }}) renders to a number when the task runs.
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, str) and "{{" not in value:
        raise ValueError(f"must be a number or an expression, got '{value[:100]}'")
    if isinstance(value, int) and value < 1:
        raise ValueError(f"must be 1 or more, got {value}")
    return value


CountOrExpression = Annotated[int | str, BeforeValidator(_count_or_expression)]


class Batch(LanguageModel):
    """How the items are cut: ``rows`` lines a batch (the default, 1), about ``bytes``
    a batch, or ``partitions`` batches in all."""

    rows: CountOrExpression | None = Field(None, description="Lines in each batch")
    size: MemorySize | None = Field(
        None, alias="bytes", description="Size of each batch, e.g. 10KB"
    )
    partitions: CountOrExpression | None = Field(None, description="How many batches in all")
    separator: str = Field("\n", min_length=1, description="What ends an item")

    @model_validator(mode="after")
    def _one_way(self) -> Batch:
        if sum(v is not None for v in (self.rows, self.size, self.partitions)) > 1:
            raise ValueError("A batch is cut by rows, bytes or partitions: only one of them")
        return self

    def split(self, data: bytes) -> list[bytes]:
        """The batches of ``data``, each item keeping its separator."""
        separator = self.separator.encode()
        parts = data.split(separator)
        if parts and parts[-1] == b"":
            parts.pop()
        items = [part + separator for part in parts]
        if self.partitions is not None:
            partitions = _positive(self.partitions, "partitions")
            size, extra = divmod(len(items), partitions)
            batches, start = [], 0
            for index in range(partitions):
                end = start + size + (1 if index < extra else 0)
                batches.append(b"".join(items[start:end]))
                start = end
            return [batch for batch in batches if batch]
        if self.size is not None:
            batches, current = [], b""
            for item in items:
                if current and len(current) + len(item) > self.size:
                    batches.append(current)
                    current = b""
                current += item
            return [*batches, current] if current else batches
        rows = _positive(self.rows or 1, "rows")
        return [b"".join(items[i : i + rows]) for i in range(0, len(items), rows)]


def _positive(value: int | str, name: str) -> int:
    if isinstance(value, str) or value < 1:
        raise ValueError(f"batch {name} must be a whole number from 1, got '{value}'")
    return value


class SubflowCall(LanguageModel):
    """The older ``subflow:`` block of ForEachItem."""

    namespace: str
    flow_id: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    wait: bool = True
    transmit_failed: bool = True
    inherit_labels: bool = False

    _labels_as_text = field_validator("labels", mode="before")(values_as_text)


class ForEachItemTask(BaseTask):
    """Runs a subflow once per batch of the lines of a stored file."""

    type: Literal[
        "io.kestra.plugin.core.flow.ForEachItem", "io.kestra.core.tasks.flows.ForEachItem"
    ]
    items: str = Field(description="The kestra:/// URI of the file, e.g. {{ inputs.file }}")
    batch: Batch = Field(default_factory=Batch, description="rows, bytes or partitions")
    namespace: str | None = Field(None, description="Namespace of the flow to run")
    flow_id: str | None = Field(None, description="Id of the flow to run")
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="Inputs of each child, e.g. {{ taskrun.items }}"
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of each child")
    wait: bool = Field(True, description="Wait for every child execution to end")
    transmit_failed: bool = Field(True, description="Fail when a child execution fails")
    inherit_labels: bool = Field(False, description="Give the children this execution's labels")
    subflow: SubflowCall | None = Field(None, description="Older form of the subflow to run")

    holds_worker: ClassVar[bool] = False
    # Rendered once per batch, when ``taskrun.items`` is known, not before the task runs.
    rendered_later: ClassVar[tuple[str, ...]] = ("inputs", "subflow")

    _labels_as_text = field_validator("labels", mode="before")(values_as_text)

    @model_validator(mode="after")
    def _names_a_flow(self) -> ForEachItemTask:
        if self.subflow is None and (self.namespace is None or self.flow_id is None):
            raise ValueError("ForEachItem needs the namespace and flowId of the flow to run")
        return self

    @property
    def call(self) -> SubflowCall:
        """The subflow to run, from either form."""
        if self.subflow is not None:
            return self.subflow
        return SubflowCall(
            namespace=self.namespace or "",
            flow_id=self.flow_id or "",
            inputs=self.inputs,
            labels=self.labels,
            wait=self.wait,
            transmit_failed=self.transmit_failed,
            inherit_labels=self.inherit_labels,
        )

    def run(self, runtime: Runtime) -> Outcome:
        call = self.call
        batches = self.batch.split(runtime.file_read(self.items.strip(), what="items"))
        runs = []
        for iteration, content in enumerate(batches, start=1):
            uri = runtime.file_store(f"batch-{iteration}", content)
            extra = {"items": uri, "iteration": iteration}
            inputs = runtime.render_with(call.inputs, taskrun=extra)
            runs.append(inputs)
        outputs: dict[str, Any] = {"numberOfBatches": len(batches), "iterations": {}}
        children = runtime.start_subflows(
            namespace=call.namespace,
            flow_id=call.flow_id,
            inputs=runs,
            labels=call.labels,
            inherit_labels=call.inherit_labels,
            outputs=outputs,
        )
        runtime.log(f"Started {len(children)} executions of {call.namespace}.{call.flow_id}")
        if not call.wait or all(child.is_terminal for child in children):
            return Outcome(
                self.state_after(children) if call.wait else State.SUCCESS,
                outputs=self.outputs_after(children),
            )
        return Outcome(State.RUNNING, outputs=outputs)

    def state_after(self, children: Sequence[ChildExecution]) -> State:
        """Its state once every child ended."""
        ended = {child.state for child in children}
        if self.call.transmit_failed and ended & {State.FAILED, State.KILLED, State.CANCELLED}:
            return State.FAILED
        return State.WARNING if State.WARNING in ended else State.SUCCESS

    @staticmethod
    def outputs_after(children: Sequence[ChildExecution]) -> dict[str, Any]:
        """Kestra's outputs: how many batches, and how many children ended in each state."""
        iterations: dict[str, int] = {"CREATED": 0, "RUNNING": 0}
        for child in children:
            iterations[child.state] = iterations.get(child.state, 0) + 1
        return {"numberOfBatches": len(children), "iterations": iterations}

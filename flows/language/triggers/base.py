"""What every trigger shares, and the execution states a trigger may name."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ..tasks import LanguageModel, NotSupportedYet
from ..values import TASK_ID_PATTERN, labels_as_mapping, number_as_text, type_names

# Every state name Kestra accepts in a trigger, so flows written for Kestra validate; the
# states Flowsite never reaches simply never match.
KestraState = Literal[
    "CREATED",
    "SUBMITTED",
    "RUNNING",
    "PAUSED",
    "RESTARTED",
    "KILLING",
    "SUCCESS",
    "WARNING",
    "FAILED",
    "KILLED",
    "CANCELLED",
    "QUEUED",
    "RETRYING",
    "RETRIED",
    "SKIPPED",
    "BREAKPOINT",
    "RESUBMITTED",
]
TERMINAL_OR_PAUSED: tuple[KestraState, ...] = (
    "SUCCESS",
    "WARNING",
    "FAILED",
    "KILLED",
    "CANCELLED",
    "RETRIED",
    "SKIPPED",
    "PAUSED",
)


class BaseTrigger(LanguageModel):
    id: str = Field(
        pattern=TASK_ID_PATTERN,
        max_length=100,
        json_schema_extra={"type": ["string", "integer"]},  # Kestra reads id: 1 too
        description="Unique id of the trigger",
    )
    description: str | None = None
    disabled: bool = Field(False, description="Never fire this trigger")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Labels of the executions it starts"
    )
    stop_after: list[KestraState] = Field(
        default_factory=list,
        description="Disable the trigger once an execution it started ends in one of these states",
    )
    allow_concurrent: NotSupportedYet = None
    log_to_file: NotSupportedYet = None
    min_log_level: NotSupportedYet = None
    worker_group: NotSupportedYet = None

    _labels_as_mapping = field_validator("labels", mode="before")(labels_as_mapping)

    @field_validator("id", mode="before")
    @classmethod
    def _number_as_id(cls, value: object) -> object:
        return number_as_text(value)

    @property
    def canonical_type(self) -> str:
        return type_names(type(self))[0]

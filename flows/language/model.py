"""What every model of the flow language shares: tasks, inputs and triggers alike."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _not_supported_yet(value: Any) -> Any:
    if value is not None:
        raise ValueError("is not supported yet by Flowsite")
    return value


# Excluded from dumps and left out of the JSON Schema (see flows/schema.py): editors
# should not offer what the server refuses.
NotSupportedYet = Annotated[
    Any,
    AfterValidator(_not_supported_yet),
    Field(exclude=True, json_schema_extra={"x-not-supported-yet": True}),
]
ScalarText = {"type": ["string", "number", "boolean"]}


class LanguageModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )

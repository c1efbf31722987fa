"""Kestra's flow inputs: the typed values asked for when a run starts, one model per type.

The models live by family (plain values, choices, time, documents, files); this module
gathers them into the discriminated union that a flow's ``inputs`` list is read with.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..values import type_names
from .base import INPUT_ID_PATTERN, BaseInput, located_error, quoted
from .choice import MultiselectInput, SelectInput
from .file import FileInput
from .scalar import (
    BooleanInput,
    EmailInput,
    FloatInput,
    IntInput,
    SecretInput,
    StringInput,
    UriInput,
)
from .structured import ITEM_TYPES, ArrayInput, JsonInput, YamlInput
from .temporal import (
    DateInput,
    DateTimeInput,
    DurationInput,
    TimeInput,
    parse_instant,
)

__all__ = [
    "INPUT_ID_PATTERN",
    "INPUT_MODELS",
    "INPUT_TYPES",
    "ITEM_TYPES",
    "ArrayInput",
    "BaseInput",
    "BooleanInput",
    "DateInput",
    "DateTimeInput",
    "DurationInput",
    "EmailInput",
    "FileInput",
    "FloatInput",
    "Input",
    "IntInput",
    "JsonInput",
    "MultiselectInput",
    "SecretInput",
    "SelectInput",
    "StringInput",
    "TimeInput",
    "UriInput",
    "YamlInput",
    "located_error",
    "parse_instant",
    "quoted",
]

INPUT_MODELS: tuple[type[BaseInput], ...] = (
    StringInput,
    IntInput,
    FloatInput,
    BooleanInput,
    SelectInput,
    MultiselectInput,
    DateTimeInput,
    DateInput,
    TimeInput,
    DurationInput,
    JsonInput,
    YamlInput,
    UriInput,
    EmailInput,
    ArrayInput,
    FileInput,
    SecretInput,
)

Input = Annotated[
    StringInput
    | IntInput
    | FloatInput
    | BooleanInput
    | SelectInput
    | MultiselectInput
    | DateTimeInput
    | DateInput
    | TimeInput
    | DurationInput
    | JsonInput
    | YamlInput
    | UriInput
    | EmailInput
    | ArrayInput
    | FileInput
    | SecretInput,
    Field(discriminator="type"),
]

INPUT_TYPES: dict[str, type[BaseInput]] = {
    name: model for model in INPUT_MODELS for name in type_names(model)
}

"""Inputs whose values come from a list the flow offers: SELECT (ENUM) and MULTISELECT."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from ..model import NotSupportedYet
from .base import BaseInput, ValueList, as_list, as_text, located_error, quoted


def _one_of(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _values_as_text(value: object) -> object:
    return [str(v) for v in value] if isinstance(value, list) else value


class SelectInput(BaseInput):
    """One value from a list; ENUM is Kestra's older name for it."""

    type: Literal["SELECT", "ENUM"]
    values: ValueList = Field(min_length=1, description="The values offered")
    allow_custom_value: bool = Field(False, description="Accept a value not in the list")
    auto_select_first: bool = Field(False, description="Without defaults, use the first value")
    expression: NotSupportedYet = None

    _values = field_validator("values", mode="before")(_values_as_text)

    @property
    def default_value(self) -> Any:
        if self.defaults is None and self.auto_select_first:
            return self.values[0]
        return self.defaults

    def coerce(self, value: object) -> str:
        text = as_text(value)
        if not self.allow_custom_value and text not in self.values:
            raise ValueError(f"must be one of {_one_of(self.values)}, got {quoted(text)}")
        return text


class MultiselectInput(BaseInput):
    """Several values from a list."""

    type: Literal["MULTISELECT"]
    values: ValueList | None = Field(None, description="The values offered")
    options: ValueList | None = Field(None, exclude=True, description="Older name of values")
    allow_custom_value: bool = Field(False, description="Accept values not in the list")
    expression: NotSupportedYet = None

    _values = field_validator("values", "options", mode="before")(_values_as_text)

    def _check_definition(self) -> None:
        if self.values is not None and self.options is not None:
            raise located_error("Give 'values' or its older name 'options', not both", "options")
        if not self.choices:
            raise located_error("A MULTISELECT input needs a list of 'values'", "values")

    @property
    def choices(self) -> list[str]:
        return list(self.values or self.options or [])

    def coerce(self, value: object) -> list[str]:
        items = [as_text(item) for item in as_list(value)]
        if not self.allow_custom_value:
            unknown = [item for item in items if item not in self.choices]
            if unknown:
                raise ValueError(
                    f"must only hold values among {_one_of(self.choices)}; "
                    f"{_one_of(unknown)} {'is' if len(unknown) == 1 else 'are'} not among them"
                )
        return items

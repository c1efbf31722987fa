"""Inputs that hold a whole document or a list: JSON, YAML and ARRAY."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import Field

from flowsite.bounded import load_json, load_yaml

from .base import BaseInput, as_list
from .scalar import BooleanInput, EmailInput, FloatInput, IntInput, StringInput, UriInput
from .temporal import DateInput, DateTimeInput, DurationInput, TimeInput


class JsonInput(BaseInput):
    """Any JSON value; text is parsed, a typed value is taken as it is."""

    type: Literal["JSON"]

    def coerce(self, value: object) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return load_json(value)
        except ValueError as exc:
            raise ValueError(f"must be valid JSON ({exc})") from None


class YamlInput(BaseInput):
    """Any YAML document; stored as the value it describes."""

    type: Literal["YAML"]

    def coerce(self, value: object) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return load_yaml(value)
        except ValueError as exc:
            raise ValueError(f"must be valid YAML ({exc})") from None


ItemType = Literal["STRING", "INT", "FLOAT", "BOOLEAN", "BOOL", "DATETIME", "DATE", "TIME",
                   "DURATION", "JSON", "URI", "EMAIL"]  # fmt: skip
ITEM_TYPES: tuple[ItemType, ...] = get_args(ItemType)
_ITEM_MODELS: dict[ItemType, type[BaseInput]] = {
    "STRING": StringInput,
    "INT": IntInput,
    "FLOAT": FloatInput,
    "BOOLEAN": BooleanInput,
    "BOOL": BooleanInput,
    "DATETIME": DateTimeInput,
    "DATE": DateInput,
    "TIME": TimeInput,
    "DURATION": DurationInput,
    "JSON": JsonInput,
    "URI": UriInput,
    "EMAIL": EmailInput,
}


class ArrayInput(BaseInput):
    """A list whose items all have one type (``itemType``)."""

    type: Literal["ARRAY"]
    item_type: ItemType = Field(description="Type of every item, e.g. INT")

    def coerce(self, value: object) -> list[Any]:
        # Unvalidated: an item has no definition of its own, only the checks of its type.
        item = _ITEM_MODELS[self.item_type].model_construct(id=self.id)
        typed = []
        for index, element in enumerate(as_list(value)):
            try:
                typed.append(item.coerce(element))
            except ValueError as exc:
                raise ValueError(f"has an invalid item {index + 1}: {exc}") from None
        return typed

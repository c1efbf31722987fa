"""What every flow input shares: the base model, and the checks several input types use.

Each input model knows how to turn what a person or a program sent (text from a form,
typed JSON) into the value stored with the execution: ``coerce`` raises ``ValueError``
with a message that completes "Input 'x' ...". The same method checks a flow's
``defaults`` when the flow is saved, so a default that could never be used is refused early.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from flowsite.bounded import load_json

from ..model import LanguageModel, NotSupportedYet, ScalarText
from ..values import type_names

INPUT_ID_PATTERN = r"^[a-zA-Z0-9][.a-zA-Z0-9_-]*$"


def located_error(message: str, *at: str | int) -> PydanticCustomError:
    """A validation error for the property ``at`` inside the model that raises it, so the
    editor underlines that line rather than the first line of the input."""
    return PydanticCustomError("value_error", "{message}", {"message": message, "at": at})


# YAML reads ``values: [1, 2]`` as numbers; the server takes them as text, and so does the schema.
ValueList = Annotated[list[str], WithJsonSchema({"type": "array", "items": ScalarText})]


def quoted(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return f"'{text[:80]}…'" if len(text) > 80 else f"'{text}'"


def _json_schema_id_or_name(schema: dict[str, Any]) -> None:
    # Older flows name their inputs with ``name``: either key satisfies the schema.
    schema["required"] = [key for key in schema.get("required", []) if key != "id"]
    schema["anyOf"] = [{"required": ["id"]}, {"required": ["name"]}]


class BaseInput(LanguageModel):
    """What every input has: an id, whether it must be given, a default, and labels."""

    model_config = ConfigDict(json_schema_extra=_json_schema_id_or_name)

    id: str = Field(
        pattern=INPUT_ID_PATTERN, max_length=100, description="Name of the input in expressions"
    )
    name: str | None = Field(None, exclude=True, description="Older name of id")
    description: str | None = Field(None, description="Shown under the field of the run form")
    display_name: str | None = Field(None, description="Label of the field in the run form")
    required: bool = Field(True, description="A run cannot start without a value or defaults")
    # Any: whatever YAML holds, checked by coerce() below.
    defaults: Any = Field(None, description="Value used when none is given")
    depends_on: NotSupportedYet = None
    prefill: NotSupportedYet = None

    @model_validator(mode="before")
    @classmethod
    def _name_is_the_older_id(cls, data: object) -> object:
        if isinstance(data, dict) and "id" not in data and "name" in data:
            return {**data, "id": data["name"]}
        return data

    @model_validator(mode="after")
    def _defaults_are_valid(self) -> BaseInput:
        self._check_definition()
        if self.defaults is not None and not _is_expression(self.defaults):
            try:
                self.coerce(self.defaults)
            except ValueError as exc:
                raise located_error(f"Default of input '{self.id}' {exc}", "defaults") from exc
        return self

    @property
    def canonical_type(self) -> str:
        return type_names(type(self))[0]

    @property
    def default_value(self) -> Any:
        """The value used when none is given: ``defaults``, unless a type offers another."""
        return self.defaults

    @property
    def label(self) -> str:
        return self.display_name or self.id

    def coerce(self, value: object) -> Any:
        """The JSON-storable value of this input for ``value``, or ValueError saying why not."""
        raise NotImplementedError

    def _check_definition(self) -> None:
        """Refuse definitions that make no sense, e.g. ``min`` above ``max``."""


def _is_expression(value: object) -> bool:
    # Kestra renders ``{{ ... }}`` in defaults at run time; their result is checked then.
    return isinstance(value, str) and "{{" in value


class _Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...

    def __gt__(self, other: Any, /) -> bool: ...


Ordered = TypeVar("Ordered", bound=_Ordered)


def bounds_in_order(model: BaseModel, low: str, high: str) -> None:
    low_value, high_value = getattr(model, low), getattr(model, high)
    if low_value is not None and high_value is not None and low_value > high_value:
        raise located_error(f"'{low}' must not be greater than '{high}'", low)


def in_range(
    value: Ordered,
    low: Ordered | None,
    high: Ordered | None,
    shown: Callable[[Ordered], str] = str,
) -> None:
    if low is not None and value < low:
        raise ValueError(f"must be at least {shown(low)}, got {shown(value)}")
    if high is not None and value > high:
        raise ValueError(f"must be at most {shown(high)}, got {shown(value)}")


def as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be text, got {quoted(value)}")
    return str(value)


def as_list(value: object) -> list[Any]:
    """A list, or text holding a JSON array (what a multipart field carries)."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                parsed = load_json(stripped)
            except ValueError as exc:
                raise ValueError(f"must be a JSON array, got {quoted(value)}") from exc
            if isinstance(parsed, list):
                return parsed
        return [value]
    raise ValueError(f"must be a list, got {quoted(value)}")

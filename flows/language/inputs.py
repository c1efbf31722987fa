"""Kestra's flow inputs: the typed values asked for when a run starts, one model per type.

Each model knows how to turn what a person or a program sent (text from a form, typed
JSON) into the value stored with the execution: ``coerce`` raises ``ValueError`` with a
message that completes "Input 'x' ...". The same method checks a flow's ``defaults``
when the flow is saved, so a default that could never be used is refused early.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import ConfigDict, Field, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from flowsite.values import format_instant, format_iso_duration

from .tasks import LanguageModel, NotSupportedYet, ScalarText
from .values import Duration, parse_duration

INPUT_ID_PATTERN = r"^[a-zA-Z0-9][.a-zA-Z0-9_-]*$"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INTEGER = re.compile(r"^[+-]?\d+$")


def located_error(message: str, *at: str | int) -> PydanticCustomError:
    """A validation error for the property ``at`` inside the model that raises it, so the
    editor underlines that line rather than the first line of the input."""
    return PydanticCustomError("value_error", "{message}", {"message": message, "at": at})


# YAML reads ``values: [1, 2]`` as numbers; the server takes them as text, and so does the schema.
ValueList = Annotated[list[str], WithJsonSchema({"type": "array", "items": ScalarText})]


def quoted(value: Any) -> str:
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
    defaults: Any = Field(None, description="Value used when none is given")
    depends_on: NotSupportedYet = None
    prefill: NotSupportedYet = None

    @model_validator(mode="before")
    @classmethod
    def _name_is_the_older_id(cls, data: Any) -> Any:
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
        return type(self).model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]

    @property
    def default_value(self) -> Any:
        """The value used when none is given: ``defaults``, unless a type offers another."""
        return self.defaults

    @property
    def label(self) -> str:
        return self.display_name or self.id

    def coerce(self, value: Any) -> Any:
        """The JSON-storable value of this input for ``value``, or ValueError saying why not."""
        raise NotImplementedError

    def _check_definition(self) -> None:
        """Refuse definitions that make no sense, e.g. ``min`` above ``max``."""


def _is_expression(value: Any) -> bool:
    # Kestra renders ``{{ ... }}`` in defaults at run time; their result is checked then.
    return isinstance(value, str) and "{{" in value


def _bounds_in_order(model: Any, low: str, high: str) -> None:
    low_value, high_value = getattr(model, low), getattr(model, high)
    if low_value is not None and high_value is not None and low_value > high_value:
        raise located_error(f"'{low}' must not be greater than '{high}'", low)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be text, got {quoted(value)}")
    return str(value)


class StringInput(BaseInput):
    """Free text, optionally checked against a regular expression."""

    type: Literal["STRING"]
    validator: str | None = Field(None, description="Regular expression the whole value matches")
    min_length: int | None = Field(None, ge=0, description="Fewest characters")
    max_length: int | None = Field(None, ge=0, description="Most characters")

    @field_validator("validator")
    @classmethod
    def _validator_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"Invalid regular expression '{value}': {exc}") from exc
        return value

    def _check_definition(self) -> None:
        _bounds_in_order(self, "min_length", "max_length")

    def coerce(self, value: Any) -> str:
        text = _text(value)
        if self.validator is not None and not re.fullmatch(self.validator, text):
            raise ValueError(f"must match the pattern '{self.validator}', got {quoted(text)}")
        if self.min_length is not None and len(text) < self.min_length:
            raise ValueError(f"must be at least {self.min_length} characters long")
        if self.max_length is not None and len(text) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters long")
        return text


class EmailInput(BaseInput):
    """An email address."""

    type: Literal["EMAIL"]

    def coerce(self, value: Any) -> str:
        text = _text(value).strip()
        if not _EMAIL.match(text):
            raise ValueError(f"must be an email address, got {quoted(text)}")
        return text


class UriInput(BaseInput):
    """A URI with a scheme, such as https://example.com/data.csv."""

    type: Literal["URI"]

    def coerce(self, value: Any) -> str:
        text = _text(value).strip()
        parts = urlsplit(text)
        if not parts.scheme or not (parts.netloc or parts.path) or " " in text:
            raise ValueError(
                f"must be a URI such as https://example.com/data.csv, got {quoted(text)}"
            )
        return text


def _in_range(value: Any, low: Any, high: Any, shown: Any = str) -> None:
    if low is not None and value < low:
        raise ValueError(f"must be at least {shown(low)}, got {shown(value)}")
    if high is not None and value > high:
        raise ValueError(f"must be at most {shown(high)}, got {shown(value)}")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"must be an integer, got {quoted(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise ValueError(f"must be an integer, got {quoted(value)}")


class IntInput(BaseInput):
    """A whole number."""

    type: Literal["INT"]
    min: int | None = Field(None, description="Smallest value allowed")
    max: int | None = Field(None, description="Largest value allowed")

    def _check_definition(self) -> None:
        _bounds_in_order(self, "min", "max")

    def coerce(self, value: Any) -> int:
        number = _integer(value)
        _in_range(number, self.min, self.max)
        return number


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {quoted(value)}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
        else:
            if number == number and number not in (float("inf"), float("-inf")):
                return number
    raise ValueError(f"must be a number, got {quoted(value)}")


class FloatInput(BaseInput):
    """A decimal number."""

    type: Literal["FLOAT"]
    min: float | None = Field(None, description="Smallest value allowed")
    max: float | None = Field(None, description="Largest value allowed")

    def _check_definition(self) -> None:
        _bounds_in_order(self, "min", "max")

    def coerce(self, value: Any) -> float:
        number = _float(value)
        _in_range(number, self.min, self.max)
        return number


_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"must be true or false, got {quoted(value)}")


class BooleanInput(BaseInput):
    """True or false; shown as a checkbox."""

    type: Literal["BOOLEAN", "BOOL"]

    def coerce(self, value: Any) -> bool:
        return _boolean(value)


def _one_of(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class SelectInput(BaseInput):
    """One value from a list; ENUM is Kestra's older name for it."""

    type: Literal["SELECT", "ENUM"]
    values: ValueList = Field(min_length=1, description="The values offered")
    allow_custom_value: bool = Field(False, description="Accept a value not in the list")
    auto_select_first: bool = Field(False, description="Without defaults, use the first value")
    expression: NotSupportedYet = None

    @field_validator("values", mode="before")
    @classmethod
    def _values_as_text(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list) else value

    @property
    def default_value(self) -> Any:
        if self.defaults is None and self.auto_select_first:
            return self.values[0]
        return self.defaults

    def coerce(self, value: Any) -> str:
        text = _text(value)
        if not self.allow_custom_value and text not in self.values:
            raise ValueError(f"must be one of {_one_of(self.values)}, got {quoted(text)}")
        return text


def _list(value: Any) -> list[Any]:
    """A list, or text holding a JSON array (what a multipart field carries)."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                parsed = json.loads(stripped)
            except ValueError as exc:
                raise ValueError(f"must be a JSON array, got {quoted(value)}") from exc
            if isinstance(parsed, list):
                return parsed
        return [value]
    raise ValueError(f"must be a list, got {quoted(value)}")


class MultiselectInput(BaseInput):
    """Several values from a list."""

    type: Literal["MULTISELECT"]
    values: ValueList | None = Field(None, description="The values offered")
    options: ValueList | None = Field(None, exclude=True, description="Older name of values")
    allow_custom_value: bool = Field(False, description="Accept values not in the list")
    expression: NotSupportedYet = None

    @field_validator("values", "options", mode="before")
    @classmethod
    def _values_as_text(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list) else value

    def _check_definition(self) -> None:
        if self.values is not None and self.options is not None:
            raise located_error("Give 'values' or its older name 'options', not both", "options")
        if not self.choices:
            raise located_error("A MULTISELECT input needs a list of 'values'", "values")

    @property
    def choices(self) -> list[str]:
        return list(self.values or self.options or [])

    def coerce(self, value: Any) -> list[str]:
        items = [_text(item) for item in _list(value)]
        if not self.allow_custom_value:
            unknown = [item for item in items if item not in self.choices]
            if unknown:
                raise ValueError(
                    f"must only hold values among {_one_of(self.choices)}; "
                    f"{_one_of(unknown)} {'is' if len(unknown) == 1 else 'are'} not among them"
                )
        return items


def parse_instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"must be a date and time such as 2024-01-31T09:30:00Z, got {quoted(value)}"
            ) from None
    else:
        raise ValueError(
            f"must be a date and time such as 2024-01-31T09:30:00Z, got {quoted(value)}"
        )
    # A browser's datetime-local field sends no offset: Flowsite's form says it is UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


class DateTimeInput(BaseInput):
    """An instant, stored in UTC (ISO-8601 with a Z)."""

    type: Literal["DATETIME"]
    after: datetime | None = Field(None, description="Earliest instant allowed")
    before: datetime | None = Field(None, description="Latest instant allowed")

    @field_validator("after", "before")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else parse_instant(value)

    def _check_definition(self) -> None:
        _bounds_in_order(self, "after", "before")

    def coerce(self, value: Any) -> str:
        moment = parse_instant(value)
        _in_range(moment, self.after, self.before, format_instant)
        return format_instant(moment)


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"must be a date such as 2024-01-31, got {quoted(value)}")


class DateInput(BaseInput):
    """A calendar date, stored as YYYY-MM-DD."""

    type: Literal["DATE"]
    after: date | None = Field(None, description="Earliest date allowed")
    before: date | None = Field(None, description="Latest date allowed")

    def _check_definition(self) -> None:
        _bounds_in_order(self, "after", "before")

    def coerce(self, value: Any) -> str:
        day = _date(value)
        _in_range(day, self.after, self.before, date.isoformat)
        return day.isoformat()


def _time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 86400:
        # YAML 1.1 reads an unquoted 14:30:00 as a number of seconds (sexagesimal).
        return (datetime.min + timedelta(seconds=value)).time()
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip()).replace(tzinfo=None)
        except ValueError:
            pass
    raise ValueError(f"must be a time such as 14:30:00, got {quoted(value)}")


class TimeInput(BaseInput):
    """A time of day, stored as HH:MM:SS."""

    type: Literal["TIME"]
    after: time | None = Field(None, description="Earliest time allowed")
    before: time | None = Field(None, description="Latest time allowed")

    @field_validator("after", "before", mode="before")
    @classmethod
    def _sexagesimal(cls, value: Any) -> Any:
        return _time(value) if value is not None else None

    def _check_definition(self) -> None:
        _bounds_in_order(self, "after", "before")

    def coerce(self, value: Any) -> str:
        moment = _time(value)
        _in_range(moment, self.after, self.before, time.isoformat)
        return moment.isoformat()


class DurationInput(BaseInput):
    """A length of time in ISO-8601, such as PT1H or P1DT12H."""

    type: Literal["DURATION"]
    min: Duration | None = Field(None, description="Shortest duration allowed")
    max: Duration | None = Field(None, description="Longest duration allowed")

    def _check_definition(self) -> None:
        _bounds_in_order(self, "min", "max")

    def coerce(self, value: Any) -> str:
        try:
            length = parse_duration(value)
        except ValueError:
            raise ValueError(
                f"must be an ISO-8601 duration such as PT1H, got {quoted(value)}"
            ) from None
        _in_range(length, self.min, self.max, format_iso_duration)
        return format_iso_duration(length)


class JsonInput(BaseInput):
    """Any JSON value; text is parsed, a typed value is taken as it is."""

    type: Literal["JSON"]

    def coerce(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ValueError(f"must be valid JSON ({exc})") from None


class YamlInput(BaseInput):
    """Any YAML document; stored as the value it describes."""

    type: Literal["YAML"]

    def coerce(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ValueError(f"must be valid YAML ({str(exc).splitlines()[0]})") from None


ITEM_TYPES = ("STRING", "INT", "FLOAT", "BOOLEAN", "BOOL", "DATETIME", "DATE", "TIME",
              "DURATION", "JSON", "URI", "EMAIL")  # fmt: skip


class ArrayInput(BaseInput):
    """A list whose items all have one type (``itemType``)."""

    type: Literal["ARRAY"]
    item_type: Literal[ITEM_TYPES] = Field(  # type: ignore[valid-type]
        description="Type of every item, e.g. INT"
    )

    def coerce(self, value: Any) -> list[Any]:
        item_model = INPUT_TYPES[self.item_type]
        item = item_model.model_construct(id=self.id, type=self.item_type)
        typed = []
        for index, element in enumerate(_list(value)):
            try:
                typed.append(item.coerce(element))
            except ValueError as exc:
                raise ValueError(f"has an invalid item {index + 1}: {exc}") from None
        return typed


class FileInput(BaseInput):
    """A file uploaded with the run, stored with the execution; its value is the
    file's kestra:/// URI."""

    type: Literal["FILE"]
    allowed_file_extensions: list[str] | None = Field(
        None, description="Accepted extensions, e.g. ['.csv', '.json']"
    )
    # Kestra ignores it today; older flows still carry it.
    extension: str | None = Field(None, description="Older: extension of the stored file")

    def _check_definition(self) -> None:
        if self.defaults is not None and not isinstance(self.defaults, str):
            raise located_error("The default of a FILE input is a file's URI", "defaults")

    def coerce(self, value: Any) -> str:
        # Uploads are stored before this is called; what arrives here is a URI.
        if not isinstance(value, str) or not urlsplit(value).scheme:
            raise ValueError(f"must be an uploaded file or a file URI, got {quoted(value)}")
        return value

    def accepts_file_name(self, name: str) -> bool:
        allowed = self.allowed_file_extensions
        return not allowed or any(name.lower().endswith(ext.lower()) for ext in allowed)


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
    | FileInput,
    Field(discriminator="type"),
]

INPUT_TYPES: dict[str, type[BaseInput]] = {
    name: model
    for model in INPUT_MODELS
    for name in model.model_fields["type"].annotation.__args__  # type: ignore[union-attr]
}

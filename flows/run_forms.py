"""The run form: one field per input of the flow, shown wherever a run starts.

The form only collects and shows; whether a value is valid is decided by
``flows.inputs.inputs_resolve``, the same check the REST API and triggers go through, and
its messages are put back on the fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import yaml
from django import forms
from django.forms import BoundField
from django.forms.renderers import BaseRenderer
from django.utils.datastructures import MultiValueDict
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .inputs import Upload
from .language.inputs import (
    ArrayInput,
    BaseInput,
    BooleanInput,
    DateInput,
    DateTimeInput,
    DurationInput,
    FileInput,
    FloatInput,
    IntInput,
    JsonInput,
    MultiselectInput,
    SelectInput,
    TimeInput,
    YamlInput,
    parse_instant,
)

# Sent with the form so that a POST of it is told apart from a bare click on Run.
SUBMITTED = "_run_form"


@dataclass(frozen=True)
class Row:
    field: BoundField
    required: bool  # a run cannot start with it left empty
    type: str


class RunForm(forms.Form):
    """Fields named by input id, so the form posts what the REST API takes."""

    def __init__(
        self,
        definitions: Sequence[BaseInput],
        data: Mapping[str, Any] | None = None,
        files: MultiValueDict[str, Upload] | None = None,
    ) -> None:
        super().__init__(data, files)
        self.definitions = definitions
        for definition in definitions:
            self.fields[definition.id] = _field(definition)

    def input_values(self) -> dict[str, Any]:
        """What was typed, for ``inputs_resolve``: files travel separately."""
        self.is_valid()  # the fields are lenient: this only reads the values back
        return {
            definition.id: self.cleaned_data.get(definition.id)
            for definition in self.definitions
            if not isinstance(definition, FileInput)
        }

    def rows(self) -> list[Row]:
        return [
            Row(
                self[d.id],
                d.required and d.default_value is None and not isinstance(d, BooleanInput),
                d.canonical_type,
            )
            for d in self.definitions
        ]

    def refuse(self, errors: dict[str, str]) -> None:
        for input_id, message in errors.items():
            self.add_error(input_id if input_id in self.fields else None, message)


def _field(definition: BaseInput) -> forms.Field:
    field = _typed_field(definition)
    field.required = False  # inputs_resolve says what is missing, with its own words
    field.label = definition.label
    field.help_text = definition.description or ""
    field.initial = _initial(definition)
    if definition.required and not isinstance(definition, BooleanInput):
        field.widget.attrs["aria-required"] = "true"
    return field


def _typed_field(definition: BaseInput) -> forms.Field:
    if isinstance(definition, IntInput | FloatInput):
        attrs = {"step": "1" if isinstance(definition, IntInput) else "any"}
        attrs |= {k: str(v) for k in ("min", "max") if (v := getattr(definition, k)) is not None}
        return forms.CharField(widget=forms.NumberInput(attrs=attrs))
    if isinstance(definition, BooleanInput):
        return forms.BooleanField()
    if isinstance(definition, SelectInput):
        choices = [("", "—"), *((v, v) for v in definition.values)]
        if definition.allow_custom_value:
            return forms.CharField(widget=_ListedText(definition.id, definition.values))
        return forms.CharField(widget=forms.Select(choices=choices))
    if isinstance(definition, MultiselectInput):
        choices = [(v, v) for v in definition.choices]
        return forms.Field(widget=forms.SelectMultiple(choices=choices))
    if isinstance(definition, DateTimeInput):
        return forms.CharField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    if isinstance(definition, DateInput):
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}))
    if isinstance(definition, TimeInput):
        return forms.CharField(widget=forms.TimeInput(attrs={"type": "time", "step": "1"}))
    if isinstance(definition, DurationInput):
        return forms.CharField(widget=forms.TextInput(attrs={"placeholder": "PT1H30M"}))
    if isinstance(definition, JsonInput | YamlInput):
        return forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 4}))
    if isinstance(definition, ArrayInput):
        return forms.CharField(widget=forms.TextInput(attrs={"placeholder": '["a", "b"]'}))
    if isinstance(definition, FileInput):
        accept = ",".join(definition.allowed_file_extensions or [])
        return forms.FileField(
            widget=forms.ClearableFileInput(attrs={"accept": accept} if accept else {})
        )
    widget_type = {
        "EMAIL": forms.EmailInput,
        "URI": forms.URLInput,
        "SECRET": forms.PasswordInput,
    }.get(definition.canonical_type)
    return forms.CharField(widget=(widget_type or forms.TextInput)())


class _ListedText(forms.TextInput):
    """A text field that suggests the listed values but takes any other (allowCustomValue)."""

    def __init__(self, input_id: str, values: list[str]):
        super().__init__(attrs={"list": f"run-values-{input_id}"})
        self.values = values

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        options = format_html_join("", '<option value="{}">', ((v,) for v in self.values))
        listed = format_html('<datalist id="{}">{}</datalist>', self.attrs["list"], options)
        return mark_safe(super().render(name, value, attrs, renderer) + listed)


def _initial(definition: BaseInput) -> Any:
    """The default as its field shows it: a datetime-local has no zone, a JSON is text."""
    default = definition.default_value
    if default is None or isinstance(definition, FileInput):
        return None
    try:
        typed = definition.coerce(default)
    except ValueError:  # an expression Kestra renders at run time: shown as written
        return default
    if isinstance(definition, DateTimeInput):
        return parse_instant(typed).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(definition, JsonInput | ArrayInput):
        return json.dumps(typed, indent=2 if isinstance(definition, JsonInput) else None)
    if isinstance(definition, YamlInput):
        return yaml.safe_dump(typed, sort_keys=False) if not isinstance(default, str) else default
    return typed

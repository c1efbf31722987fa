"""The forms of the Variables & secrets page."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import KEY_MAX_LENGTH, key_problem, variable_value


class KeyField(forms.CharField):
    def __init__(self, **kwargs: Any):
        super().__init__(max_length=KEY_MAX_LENGTH, **kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if problem := key_problem(value):
            raise forms.ValidationError(problem)


class _OnePageForm(forms.Form):
    """Both forms share one page: each needs its own element ids, or the labels of the
    second point at the fields of the first."""

    id_prefix = ""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class VariableForm(_OnePageForm):
    id_prefix = "variable"
    key = KeyField(label="Key")
    value = forms.CharField(
        label="Value",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='JSON (42, true, [1, 2], {"a": 1}) or plain text',
    )

    def clean_value(self) -> Any:
        return variable_value(self.cleaned_data["value"])


class WriteOnlyTextarea(forms.Textarea):
    """A textarea (secrets may span lines: a PEM key) that never renders its value back
    into a page, not even when the form is refused."""

    def format_value(self, value: Any) -> None:
        return None


class SecretForm(_OnePageForm):
    id_prefix = "secret"
    key = KeyField(label="Key", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    value = forms.CharField(
        label="Value",
        strip=False,
        widget=WriteOnlyTextarea(attrs={"rows": 2, "autocomplete": "off", "spellcheck": "false"}),
        help_text="Write-only: nobody sees it again, flows read it with {{ secret('KEY') }}",
    )

"""The form of the KV store page."""

from __future__ import annotations

from typing import Any

from django import forms

from flowsite.values import parse_duration

from .kv import KV_DESCRIPTION_MAX_LENGTH, KV_KEY_MAX_LENGTH, KVError, kv_key_check, kv_typed
from .models import KVType


class KVForm(forms.Form):
    key = forms.CharField(label="Key", max_length=KV_KEY_MAX_LENGTH)
    type = forms.ChoiceField(label="Type", choices=KVType.choices, initial=KVType.STRING)
    value = forms.CharField(
        label="Value",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Text as it is; a number, true/false, 2026-11-30T10:00:00Z, 2026-11-30, "
        'PT5M or JSON ({"a": 1}) as its type says',
    )
    ttl = forms.CharField(
        label="Expires after",
        required=False,
        help_text="An ISO-8601 duration such as PT1H or P7D; empty: never",
    )
    description = forms.CharField(
        label="Description", required=False, max_length=KV_DESCRIPTION_MAX_LENGTH
    )

    def clean_key(self) -> str:
        try:
            return kv_key_check(self.cleaned_data["key"])
        except KVError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_ttl(self) -> Any:
        text = self.cleaned_data["ttl"].strip()
        if not text:
            return None
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise forms.ValidationError(f"{text!r} is not an ISO-8601 duration: {exc}") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "type" in data and "value" in data:
            try:
                data["typed"] = kv_typed(data["value"], data["type"])
            except KVError as exc:
                self.add_error("value", str(exc))
        return data

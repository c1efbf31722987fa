"""A run's inputs: what was sent checked against the flow's input definitions.

Values arrive as text (a form, multipart fields) or typed (a JSON body). Every problem is
collected, so whoever started the run sees them all at once, and nothing is created
unless all inputs are valid: Kestra refuses the execution too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParserError

from flowsite.bounded import load_json, unstorable

from .language.inputs import BaseInput, FileInput, quoted

# A string: UploadedFile takes its type argument in the stubs only.
Upload: TypeAlias = "UploadedFile[bytes]"
StoreFile = Callable[[str, Upload], str]


class InputsInvalid(Exception):
    """``errors`` maps each input id to what is wrong with it ('' for unknown inputs)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def inputs_resolve(
    definitions: Sequence[BaseInput],
    data: Mapping[str, object],
    files: Mapping[str, Upload],
    *,
    store_file: StoreFile,
) -> dict[str, Any]:
    """The typed, JSON-storable value of every input, defaults applied.

    Raises InputsInvalid with every problem. Files are stored only once everything else
    is valid, so a refused run leaves no file behind.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    known = {definition.id for definition in definitions}
    unknown = sorted((set(data) | set(files)) - known)
    if unknown:
        errors[""] = f"Unknown input{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}"
    uploads: dict[str, Upload] = {}
    for definition in definitions:
        try:
            if definition.id in files:
                uploads[definition.id] = _upload(definition, files[definition.id])
            else:
                values[definition.id] = _value(definition, data.get(definition.id))
        except ValueError as exc:
            errors[definition.id] = f"Input '{definition.id}' {exc}"
    if errors:
        raise InputsInvalid(errors)
    for input_id, uploaded in uploads.items():
        values[input_id] = store_file(input_id, uploaded)
    return {definition.id: values[definition.id] for definition in definitions}


def _given(value: object) -> bool:
    return value is not None and value != "" and value != []


def _value(definition: BaseInput, value: object) -> Any:
    if odd := unstorable(value):
        raise ValueError(f"holds {odd}, which cannot be stored")
    if not _given(value):
        value = definition.default_value
    if not _given(value):
        if definition.required:
            raise ValueError("is required")
        return None
    return definition.coerce(value)


def _upload(definition: BaseInput, uploaded: Upload) -> Upload:
    if not isinstance(definition, FileInput):
        raise ValueError("is not a FILE input: send its value as a field, not a file")
    name = uploaded.name or ""
    if not definition.accepts_file_name(name):
        allowed = ", ".join(definition.allowed_file_extensions or [])
        raise ValueError(f"must be a file ending in {allowed}, got {quoted(name)}")
    return uploaded


def inputs_sent(request: HttpRequest) -> tuple[dict[str, Any], Mapping[str, Upload]]:
    """The inputs a REST call sent, as Kestra takes them: multipart (or urlencoded) fields
    and file parts, or a JSON object, bare or as ``{"inputs": {...}}``.

    Raises ValueError when a multipart body is malformed or a JSON body is not an object.
    """
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            return _fields(request.POST), request.FILES
        except MultiPartParserError as exc:
            raise ValueError(f"The multipart body cannot be read: {exc}") from None
    if not request.body.strip():
        return {}, {}
    try:
        sent = load_json(request.body)
    except ValueError as exc:
        raise ValueError(f"The body is not valid JSON ({exc})") from None
    if isinstance(sent, dict) and set(sent) == {"inputs"} and isinstance(sent["inputs"], dict):
        sent = sent["inputs"]
    if not isinstance(sent, dict):
        raise ValueError('The body must be a JSON object of inputs, e.g. {"inputs": {"n": 1}}')
    return sent, {}


def _fields(data: QueryDict) -> dict[str, Any]:
    # A field sent several times (the values of a MULTISELECT) becomes a list.
    return {key: items[0] if len(items) == 1 else items for key, items in data.lists()}

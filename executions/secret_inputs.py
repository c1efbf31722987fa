"""SECRET inputs, as Kestra keeps them: encrypted in the execution's stored inputs (the
shape Kestra gives an encrypted value: ``{"type": "io.kestra.datatype:aes_encrypted",
"value": ...}``), opened only to render expressions, whose secrets the worker then hides
in logs and outputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flows.language.inputs import BaseInput, SecretInput
from namespaces.crypto import InvalidToken, decrypt, encrypt

ENCRYPTED = "io.kestra.datatype:aes_encrypted"


def is_sealed(value: object) -> bool:
    return isinstance(value, dict) and value.get("type") == ENCRYPTED and "value" in value


def secret_inputs_seal(definitions: Sequence[BaseInput], values: dict[str, Any]) -> dict[str, Any]:
    """The resolved inputs with each SECRET one encrypted."""
    secret = {d.id for d in definitions if isinstance(d, SecretInput)}
    return {
        key: {"type": ENCRYPTED, "value": encrypt(str(value))}
        if key in secret and isinstance(value, str)
        else value
        for key, value in values.items()
    }


def secret_inputs_given(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Inputs handed to a new execution (a replay) with the sealed ones opened, for the
    inputs to be checked and sealed anew."""
    return {key: _opened(value) for key, value in (values or {}).items()}


def secret_inputs_open(
    values: Mapping[str, Any], on_secret: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The inputs as expressions see them: every sealed one in clear (and told to
    ``on_secret``, which hides it wherever the task prints or returns it)."""
    opened: dict[str, Any] = {}
    for key, value in values.items():
        if is_sealed(value):
            value = _opened(value)
            if on_secret is not None and value:
                on_secret(value)
        opened[key] = value
    return opened


def _opened(value: Any) -> Any:
    if not is_sealed(value):
        return value
    try:
        return decrypt(str(value["value"]))
    except InvalidToken:
        return value  # encrypted under a key no longer configured: left sealed

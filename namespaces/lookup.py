"""What a namespace sees: its own variables and secrets and those of its parents.

``company.team`` sees ``company``'s and its own; where both define a key, the nearest
namespace wins (``company.team`` over ``company``). Keys are inherited whole: an object
variable defined in both is replaced, not merged. These are the functions the engine
calls when it renders ``{{ secret('KEY') }}`` and namespace variables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from .models import NamespaceEntry, NamespaceVariable, Secret

Entry = TypeVar("Entry", bound=NamespaceEntry)


class SecretNotFound(KeyError):
    """``secret('KEY')`` named a secret that neither the namespace nor a parent has."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def namespace_chain(namespace: str) -> list[str]:
    """``a.b.c`` → ``["a", "a.b", "a.b.c"]``: farthest first, the namespace itself last."""
    parts = namespace.split(".")
    return [".".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def _nearest_last(rows: Iterable[Entry], namespace: str) -> list[Entry]:
    depth = {name: position for position, name in enumerate(namespace_chain(namespace))}
    return sorted(rows, key=lambda row: (depth[row.namespace], row.key))


def namespace_variables(namespace: str) -> dict[str, Any]:
    """Every variable ``namespace`` sees, keyed by name, the nearest definition winning."""
    rows = NamespaceVariable.objects.filter(namespace__in=namespace_chain(namespace))
    return {row.key: row.value for row in _nearest_last(rows, namespace)}


def inherited_variables(namespace: str) -> dict[str, Any]:
    """What ``namespace`` receives from its parents alone (Kestra's inherited-variables)."""
    parents = namespace_chain(namespace)[:-1]
    return namespace_variables(parents[-1]) if parents else {}


def _visible_secrets(namespace: str) -> dict[str, Secret]:
    rows = Secret.objects.filter(namespace__in=namespace_chain(namespace))
    return {row.key: row for row in _nearest_last(rows, namespace)}


def namespace_secrets(namespace: str) -> dict[str, str]:
    """Every secret ``namespace`` sees, decrypted, the nearest definition winning.

    Raises ``SecretUnreadable`` when a stored secret no longer decrypts."""
    return {key: row.reveal() for key, row in _visible_secrets(namespace).items()}


def namespace_secret(namespace: str, key: str) -> str:
    """One secret as ``secret('KEY')`` sees it; ``SecretNotFound`` names where it looked."""
    row = _visible_secrets(namespace).get(key)
    if row is None:
        raise SecretNotFound(
            f"No secret {key} in namespace {namespace}"
            + (" or its parents" if "." in namespace else "")
        )
    return row.reveal()


def inherited_secret_keys(namespace: str) -> dict[str, list[str]]:
    """The keys of the secrets ``namespace`` inherits, per parent namespace (Kestra's
    inherited-secrets); a key the namespace itself redefines is still listed."""
    parents = namespace_chain(namespace)[:-1]
    keys: dict[str, list[str]] = {}
    for row in Secret.objects.filter(namespace__in=parents).order_by("namespace", "key"):
        keys.setdefault(row.namespace, []).append(row.key)
    return keys

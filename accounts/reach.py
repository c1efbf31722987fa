"""The one place that decides what a running flow may reach beyond its own namespace.

People's access is ``permissions``; this is the same idea for executions. An execution
in namespace A reaches A and every namespace inside it (``A.x``), as a role on A covers
``A.x``; it does not reach A's parents or siblings. Another namespace B it reaches only
when an Admin of B allowed A (a ``NamespaceAllowance``): then A's executions may call
B's flows as subflows, hear B's executions with Flow triggers, and read the files B's
executions stored. Like a role binding, an allowance covers children on both sides:
allowing ``company`` on ``dev`` lets ``company.data`` reach ``dev.etl``.

The engine asks here wherever it crosses a namespace (Subflow start and end, Flow
triggers, ``read()``, ``kestra:///`` URIs in ``inputFiles``, script commands and FILE
inputs, log.Fetch, and the purge tasks, which reach less: see ``purge_require``). Variables
and secrets never cross: an execution sees its own namespace's and its parents' only
(``namespaces.lookup``). A refusal says what was refused and who can allow it.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from flows.language.values import NAMESPACE_PATTERN
from flowsite.http import RequestUser

from .audit import audit_allowance_changed
from .models import NamespaceAllowance
from .permissions import covers


class CrossingRefused(Exception):
    """A running flow tried to reach a namespace it may not; the message says how to
    allow it."""


def namespace_and_parents(namespace: str) -> list[str]:
    """``a.b.c`` → ``["a", "a.b", "a.b.c"]``."""
    parts = namespace.split(".")
    return [".".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def reaches(source: str, target: str) -> bool:
    """Whether an execution in ``source`` may reach ``target``."""
    if covers(source, target):
        return True
    return NamespaceAllowance.objects.filter(
        namespace__in=namespace_and_parents(target), allowed__in=namespace_and_parents(source)
    ).exists()


def refusal(source: str, target: str, doing: str) -> str:
    """``namespace company.data may not call flows of dev; an Admin of dev can allow it
    on dev's Access page``."""
    return (
        f"namespace {source} may not {doing} {target}; "
        f"an Admin of {target} can allow it on {target}'s Access page"
    )


def subflow_require(*, caller: str, namespace: str, flow_id: str, when: str = "") -> None:
    """A Subflow task of ``caller`` starting (or, ``when`` it ends, receiving the outputs
    of) ``namespace.flow_id``."""
    if not reaches(caller, namespace):
        what = f"Subflow {namespace}.{flow_id}" + (f" {when}" if when else "")
        raise CrossingRefused(f"{what} refused: {refusal(caller, namespace, 'call flows of')}")


def hears(listener: str, execution_namespace: str) -> bool:
    """Whether a Flow trigger of a flow in ``listener`` hears an execution's end."""
    return reaches(listener, execution_namespace)


def trigger_refusal(listener: str, execution_namespace: str) -> str:
    return "Flow trigger refused: " + refusal(listener, execution_namespace, "hear executions of")


def file_may_read(reader: Any, owner: Any, uri: str) -> bool:
    """Whether execution ``reader`` may read ``uri``, a file stored by execution ``owner``.

    Its own files and those of the execution it replays; files of namespaces it reaches;
    and a file its parent (the Subflow that started it) passed in as an input, when the
    parent may read it: a caller hands down what it may see, nothing more.
    """
    if owner.pk in (reader.pk, reader.original_id):
        return True
    if reaches(reader.namespace, owner.namespace):
        return True
    parent = reader.parent_task_run.execution if reader.parent_task_run_id else None
    if parent is None or uri not in _input_uris(reader.inputs):
        return False
    return file_may_read(parent, owner, uri)


def file_require(reader: Any, owner: Any | None, uri: str, *, what: str) -> None:
    """CrossingRefused unless ``reader`` may read ``uri`` (``owner`` None: the URI names
    no execution's file)."""
    if owner is None:
        raise CrossingRefused(f"{what}: {uri} is not a stored file of any execution")
    if not file_may_read(reader, owner, uri):
        doing = "read files of"
        raise CrossingRefused(
            f"{what} refused: {refusal(reader.namespace, owner.namespace, doing)}"
        )


def purge_require(*, caller: str, namespace: str, what: str) -> None:
    """A purge task of ``caller`` deleting records of ``namespace``. Deleting is more
    than an allowance grants (it lets a namespace call, hear and read another): a purge
    reaches only its own namespace and those inside it."""
    if not covers(caller, namespace):
        raise CrossingRefused(
            f"{what} refused: namespace {caller} may not purge {namespace}; "
            "a purge reaches only its own namespace and those inside it"
        )


def _input_uris(inputs: Any) -> set[str]:
    """Every text value among an execution's inputs (FILE inputs hold their URI)."""
    found: set[str] = set()
    values = list(inputs.values()) if isinstance(inputs, dict) else []
    while values:
        value = values.pop()
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            values.extend(value)
        elif isinstance(value, dict):
            values.extend(value.values())
    return found


# --- allowances, as a namespace's Admins manage them (page and API alike) ---------------


def allowance_problem(namespace: str, allowed: str) -> str | None:
    """Why ``allowed`` cannot be allowed on ``namespace``, or None."""
    if not allowed:
        return "Name the namespace to allow"
    if len(allowed) > 150 or not re.fullmatch(NAMESPACE_PATTERN, allowed):
        return f"'{allowed[:150]}' is not a namespace name (lower-case letters, digits, '-' and '_', parts joined by dots)"
    if covers(allowed, namespace):
        return f"Executions of {allowed} already reach {namespace}: it is {allowed} or inside it"
    return None


def allowances_seen(namespace: str) -> list[NamespaceAllowance]:
    """The allowances that hold on ``namespace``: its own and its parents'."""
    return list(
        NamespaceAllowance.objects.filter(
            namespace__in=namespace_and_parents(namespace)
        ).select_related("created_by")
    )


def allowance_add(*, namespace: str, allowed: str, actor: RequestUser | None) -> bool:
    """Allow ``allowed`` on ``namespace`` (checked by ``allowance_problem`` first);
    False when it already was. Audited."""
    try:
        with transaction.atomic():
            NamespaceAllowance.objects.create(
                namespace=namespace,
                allowed=allowed,
                created_by=actor if isinstance(actor, User) else None,
            )
    except IntegrityError:
        return False
    audit_allowance_changed(actor=actor, namespace=namespace, allowed=allowed, added=True)
    return True


def allowance_remove(*, namespace: str, allowed: str, actor: RequestUser | None) -> bool:
    """Take back what ``allowance_add`` gave; False when there was nothing. Audited."""
    deleted, _ = NamespaceAllowance.objects.filter(namespace=namespace, allowed=allowed).delete()
    if deleted:
        audit_allowance_changed(actor=actor, namespace=namespace, allowed=allowed, added=False)
    return bool(deleted)

"""Which namespaces may use the Process runner, and the superuser's switch that decides.

A Process task runs on the worker's host, as an unprivileged user of its own but beside
everything else there (executions/runners/isolation.py): a privilege. It is allowed on
the namespaces FLOWSITE_PROCESS_NAMESPACES names (the examples' by default) and on those
a superuser switched on, each with the namespaces inside it. Flows are refused at save
(flows/process_check.py) and their tasks at run time elsewhere.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from accounts.audit import audit_record
from flowsite.http import RequestUser

from .models import ProcessRunnerGrant


def _covers(allowed: str, namespace: str) -> bool:
    return allowed == "*" or namespace == allowed or namespace.startswith(allowed + ".")


def process_runner_by_settings(namespace: str) -> bool:
    """Allowed by FLOWSITE_PROCESS_NAMESPACES: no switch turns that off."""
    return any(_covers(allowed, namespace) for allowed in settings.FLOWSITE_PROCESS_NAMESPACES)


def process_runner_granted_on(namespace: str) -> str | None:
    """The namespace (this one or a parent) whose switch allows it, if any."""
    parts = namespace.split(".")
    candidates = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    found = ProcessRunnerGrant.objects.filter(namespace__in=candidates).values_list(
        "namespace", flat=True
    )
    return max(found, key=len, default=None)


def process_runner_allowed(namespace: str) -> bool:
    return process_runner_by_settings(namespace) or process_runner_granted_on(namespace) is not None


def process_runner_refusal(namespace: str) -> str:
    """Why a task of ``namespace`` may not use the Process runner, and what to do."""
    return (
        f"The Process runner is not allowed in namespace {namespace}: it runs on the "
        "worker's host, so only namespaces a superuser allowed may use it (on the "
        "namespace's Access page). Remove taskRunner to run in a container instead."
    )


def process_runner_switch(*, actor: RequestUser, namespace: str, allowed: bool) -> bool:
    """Turn the switch of ``namespace`` on or off, audited; True when it changed.
    Superusers only: the caller checks."""
    with transaction.atomic():
        if allowed:
            _, changed = ProcessRunnerGrant.objects.get_or_create(
                namespace=namespace,
                defaults={"granted_by": actor if isinstance(actor, User) else None},
            )
        else:
            changed = ProcessRunnerGrant.objects.filter(namespace=namespace).delete()[0] > 0
        if changed:
            audit_record(
                actor=actor,
                action="allowed" if allowed else "disallowed",
                namespace=namespace,
                object_type="process runner",
                object_id=namespace,
                summary=(
                    "Process runner allowed here and inside"
                    if allowed
                    else "Process runner no longer allowed here"
                ),
            )
    return changed

"""Recording the audit log: who created, changed, deleted, ran or killed what, and when.

Views call ``audit_record`` after an action succeeded, in the same request, so the log
never shows what did not happen. ("restarted" joins the actions when restart exists.)
"""

from __future__ import annotations

import difflib
from typing import Any

from django.contrib.auth.models import User

from flowsite.http import RequestUser

from .models import AuditEntry


def audit_record(
    *,
    actor: RequestUser | None,
    action: str,
    namespace: str,
    object_type: str,
    object_id: str,
    summary: str = "",
    diff: str = "",
) -> AuditEntry:
    user = actor if isinstance(actor, User) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        action=action,
        namespace=namespace,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
        diff=diff,
    )


def flow_diff(
    old_source: str,
    new_source: str,
    *,
    old_revision: int | None = None,
    new_revision: int | None = None,
) -> str:
    """A unified diff of two versions of a flow's YAML, labelled with their revisions."""
    lines = difflib.unified_diff(
        old_source.splitlines(),
        new_source.splitlines(),
        fromfile=f"revision {old_revision}" if old_revision else "before",
        tofile=f"revision {new_revision}" if new_revision else "after",
        lineterm="",
    )
    return "\n".join(lines)


def audit_flow_saved(*, actor: RequestUser | None, flow: Any) -> None:
    """Record an edit that ``Flow.save_source`` just made, with its diff against the
    stored revision before it (not a copy loaded earlier: someone may have saved since)."""
    if not flow.made_revision:
        return
    before = flow.revisions.filter(revision__lt=flow.revision).first()
    audit_record(
        actor=actor,
        action="changed" if before else "created",
        namespace=flow.namespace,
        object_type="flow",
        object_id=flow.flow_id,
        summary=f"revision {before.revision} → {flow.revision}" if before else "",
        diff=flow_diff(
            before.source, flow.source, old_revision=before.revision, new_revision=flow.revision
        )
        if before
        else "",
    )


# One function per audited action, so the web pages and the REST API record it alike.


def audit_flow_created(*, actor: RequestUser | None, flow: Any) -> None:
    audit_record(
        actor=actor,
        action="created",
        namespace=flow.namespace,
        object_type="flow",
        object_id=flow.flow_id,
        summary=f"revision {flow.revision}",
    )


def audit_flow_deleted(*, actor: RequestUser | None, flow: Any) -> None:
    audit_record(
        actor=actor,
        action="deleted",
        namespace=flow.namespace,
        object_type="flow",
        object_id=flow.flow_id,
        summary=f"at revision {flow.revision}",
    )


def audit_execution_ran(*, actor: RequestUser | None, execution: Any, flow: Any) -> None:
    audit_record(
        actor=actor,
        action="ran",
        namespace=execution.namespace,
        object_type="execution",
        object_id=execution.pk,
        summary=f"{flow} revision {flow.revision}",
    )


def audit_execution_killed(*, actor: RequestUser | None, execution: Any) -> None:
    audit_record(
        actor=actor,
        action="killed",
        namespace=execution.namespace,
        object_type="execution",
        object_id=execution.pk,
        summary=f"{execution.namespace}.{execution.flow_id}",
    )


def audit_execution_labelled(
    *, actor: RequestUser | None, execution: Any, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """Labels changed by hand: what was added, changed or removed."""
    changes = [f"-{k}" for k in before if k not in after]
    changes += [f"{k}={v}" for k, v in after.items() if before.get(k) != v]
    audit_record(
        actor=actor,
        action="labelled",
        namespace=execution.namespace,
        object_type="execution",
        object_id=execution.pk,
        summary=_short(", ".join(changes) or "no change"),
    )


def audit_environment_removed(*, actor: RequestUser | None, environment: Any) -> None:
    """A Python environment removed by hand (eviction above the cap is no one's action)."""
    audit_record(
        actor=actor,
        action="removed",
        namespace="",
        object_type="environment",
        object_id=environment.key,
        summary=", ".join(environment.requested),
    )


def audit_execution_steered(
    *, actor: RequestUser | None, execution: Any, action: str, summary: str = ""
) -> None:
    """restarted, replayed (on the new execution, naming the original) or resumed."""
    audit_record(
        actor=actor,
        action=action,
        namespace=execution.namespace,
        object_type="execution",
        object_id=execution.pk,
        summary=summary or f"{execution.namespace}.{execution.flow_id}",
    )


def audit_trigger_changed(
    *,
    actor: RequestUser | None,
    namespace: str,
    flow_id: str,
    trigger_id: str,
    action: str,
    summary: str = "",
) -> None:
    """A trigger disabled, enabled or backfilled, from the flow page or the API."""
    audit_record(
        actor=actor,
        action=action,
        namespace=namespace,
        object_type="trigger",
        object_id=f"{flow_id}.{trigger_id}",
        summary=summary or f"trigger {trigger_id} of {namespace}.{flow_id}",
    )


# A secret's value never reaches the log: only its key, and whether it was new.


def audit_secret_set(*, actor: RequestUser | None, namespace: str, key: str, created: bool) -> None:
    audit_record(
        actor=actor,
        action="created" if created else "changed",
        namespace=namespace,
        object_type="secret",
        object_id=key,
        summary="value set" if created else "value replaced",
    )


def audit_secret_deleted(*, actor: RequestUser | None, namespace: str, key: str) -> None:
    audit_record(
        actor=actor, action="deleted", namespace=namespace, object_type="secret", object_id=key
    )


def audit_variable_set(
    *, actor: RequestUser | None, namespace: str, key: str, before: str | None, after: str
) -> None:
    """``before`` and ``after`` are the value as text; ``before`` is None for a new one."""
    audit_record(
        actor=actor,
        action="created" if before is None else "changed",
        namespace=namespace,
        object_type="variable",
        object_id=key,
        summary=_short(after) if before is None else f"{_short(before)} → {_short(after)}",
    )


def audit_variable_deleted(
    *, actor: RequestUser | None, namespace: str, key: str, before: str
) -> None:
    audit_record(
        actor=actor,
        action="deleted",
        namespace=namespace,
        object_type="variable",
        object_id=key,
        summary=f"was {_short(before)}",
    )


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def audit_allowance_changed(
    *, actor: RequestUser | None, namespace: str, allowed: str, added: bool
) -> None:
    """An Admin of ``namespace`` allowed ``allowed`` to reach it, or took that back."""
    audit_record(
        actor=actor,
        action="allowed" if added else "disallowed",
        namespace=namespace,
        object_type="allowance",
        object_id=allowed,
        summary=f"{allowed} may call flows of and hear executions of {namespace}"
        if added
        else f"{allowed} may no longer reach {namespace}",
    )

"""One loader per kind of object, for pages, the REST API, file downloads and websockets
alike, as healthchecks' ``_get_check_for_user``.

Each raises Http404 for what the user may not see (in words that never name the
namespace of something asked for by id alone) and PermissionDenied for what they may
see but lack the ``need``-ed role to act on. Pages show Django's 404 and 403; the API's
``api_view`` turns both into its JSON answers. Lists narrow with ``visible``.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404

from executions.models import Execution
from flows.language.values import NAMESPACE_PATTERN
from flows.models import Flow, FlowRevision
from flowsite.rows import row_or_none
from triggers.models import TriggerState

from .models import Role
from .permissions import forget_bindings, require


def namespace_for_user(user: Any, namespace: str, *, need: Role = Role.VIEWER) -> None:
    """404 for a namespace out of sight or that cannot be one, 403 without ``need``."""
    require(user, need, namespace)
    if not re.fullmatch(NAMESPACE_PATTERN, namespace):
        raise Http404(f"Namespace {namespace} not found")


def namespace_for_new_flow(user: Any, namespace: str) -> None:
    """A new flow goes only where its author is an Editor. They named the namespace
    themself, so one out of their sight is refused (403), not hidden (404)."""
    try:
        require(user, Role.EDITOR, namespace)
    except Http404:
        raise PermissionDenied(
            f"You need the Editor role on {namespace} to create flows there"
        ) from None


def flow_for_user(user: Any, namespace: str, flow_id: str, *, need: Role = Role.VIEWER) -> Flow:
    not_found = f"Flow {namespace}.{flow_id} not found"
    require(user, Role.VIEWER, namespace, not_found=not_found)  # before anything is looked up
    flow = row_or_none(Flow.objects.live(), namespace=namespace, flow_id=flow_id)
    if flow is None:
        raise Http404(not_found)
    require(user, need, namespace)
    return flow


def revision_for_user(
    user: Any, namespace: str, flow_id: str, revision: int, *, need: Role = Role.VIEWER
) -> FlowRevision:
    """One revision of a live flow, with its flow and author."""
    not_found = f"Revision {revision} of flow {namespace}.{flow_id} not found"
    require(user, Role.VIEWER, namespace, not_found=not_found)
    found = (
        FlowRevision.objects.select_related("flow", "author")
        .filter(
            flow__in=Flow.objects.live(),
            flow__namespace=namespace,
            flow__flow_id=flow_id,
            revision=revision,
        )
        .first()
    )
    if found is None:
        raise Http404(not_found)
    require(user, need, namespace)
    return found


def execution_for_user(user: Any, execution_id: str, *, need: Role = Role.VIEWER) -> Execution:
    # Named by its id alone: the 404 must not tell whether it exists elsewhere, or where.
    not_found = f"Execution {execution_id} not found"
    execution = row_or_none(
        Execution.objects.select_related("flow_revision", "parent_task_run"), pk=execution_id
    )
    if execution is None:
        raise Http404(not_found)
    require(user, Role.VIEWER, execution.namespace, not_found=not_found)
    require(user, need, execution.namespace)
    return execution


def execution_for_follower(user: Any, execution_id: str) -> Execution | None:
    """The execution a websocket follows, or None when its user may not view it.

    A socket asks again while it stays open, and its user object lives as long as it
    does: the user's active flag and bindings are read afresh each time, so that a
    deactivation or a revoked binding counts at once. Sync, for database_sync_to_async.
    """
    if user is None or not user.is_authenticated:
        return None
    forget_bindings(user)
    if not get_user_model().objects.filter(pk=user.pk, is_active=True).exists():
        return None
    try:
        return execution_for_user(user, execution_id)
    except Http404:
        return None


def trigger_for_user(
    user: Any, namespace: str, flow_id: str, trigger_id: str, *, need: Role = Role.VIEWER
) -> tuple[Flow, TriggerState]:
    """A trigger of a live flow, and that flow."""
    not_found = f"Trigger {namespace}.{flow_id}.{trigger_id} not found"
    require(user, Role.VIEWER, namespace, not_found=not_found)
    flow = row_or_none(Flow.objects.live(), namespace=namespace, flow_id=flow_id)
    if flow is None:
        raise Http404(not_found)
    state = row_or_none(
        TriggerState.objects.all(), namespace=namespace, flow_id=flow_id, trigger_id=trigger_id
    )
    if state is None:
        raise Http404(not_found)
    require(user, need, namespace)
    return flow, state

"""Labels changed by people, on the execution page and by Kestra's
``POST /api/v1/executions/{id}/labels``.

As in Kestra, a key and a value are required and labels under ``system.`` are
Flowsite's own: nobody sets or changes one by hand, and an edit keeps them as they are.
"""

from __future__ import annotations

from django.db import transaction

from .housekeeping import SYSTEM_LABEL_PREFIX
from .models import Execution

MAX_KEY = 100
MAX_VALUE = 1000


class LabelsInvalid(ValueError):
    """A label without a key or a value, too long, or one that would change a system label."""


def labels_check(labels: list[tuple[str, str]], current: dict[str, str]) -> dict[str, str]:
    """``labels`` as a mapping, when each may be set on an execution labelled ``current``."""
    checked: dict[str, str] = {}
    for key, value in labels:
        if not key:
            raise LabelsInvalid("A label needs a key")
        if not value:
            raise LabelsInvalid(f"The label {key} needs a value")
        if len(key) > MAX_KEY or len(value) > MAX_VALUE:
            raise LabelsInvalid(
                f"A label's key holds at most {MAX_KEY} characters, its value {MAX_VALUE}"
            )
        # Kestra accepts a system label sent back unchanged: clients send the whole list.
        if key.startswith(SYSTEM_LABEL_PREFIX) and current.get(key) != value:
            raise LabelsInvalid(
                f"System labels can only be set by Flowsite itself, offending label: {key}={value}"
            )
        checked[key] = value
    return checked


def labels_update(
    execution: Execution, labels: list[tuple[str, str]], *, replace: bool
) -> dict[str, str]:
    """Set ``labels`` on ``execution``; its labels after. ``replace``: the labels not
    named are removed (the page's form sends them all); else they are kept (Kestra's
    API adds or updates). System labels are kept either way."""
    with transaction.atomic():  # a Labels task may be adding some at the same moment
        row = Execution.objects.select_for_update().only("labels").get(pk=execution.pk)
        current = {str(k): str(v) for k, v in (row.labels or {}).items()}
        sent = labels_check(labels, current)
        if replace:
            kept = {k: v for k, v in current.items() if k.startswith(SYSTEM_LABEL_PREFIX)}
        else:
            kept = current
        updated = {**kept, **sent}
        Execution.objects.filter(pk=execution.pk).update(labels=updated)
    execution.labels = updated
    return updated

"""Looking up one row by a unique key."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def row_or_none(rows: QuerySet[M], **key: Any) -> M | None:
    """The row ``key`` names among ``rows`` (a unique key: pk, or a unique constraint's
    fields), or None. Unlike ``.first()`` it compiles and runs no ORDER BY, which on a
    hot path cost more than the rest of the query."""
    try:
        return rows.get(**key)
    except ObjectDoesNotExist:  # the model's DoesNotExist
        return None

"""``{% execution_files execution as files %}``: the output files of an execution, for
the Files section that the execution page and its live fragment both show."""

from __future__ import annotations

from typing import Any

from django import template

from executions.storage import StoredFile
from executions.storage import execution_files as stored_files

register = template.Library()


@register.simple_tag
def execution_files(execution: Any) -> list[StoredFile]:
    return stored_files(execution)

"""How a render fails, and the limits it may not exceed.

``ExpressionError`` is the one error callers see: it names the ``{{ }}`` that failed and
says why in words a flow author understands (``reason()`` turns Jinja's wording into that).
"""

from __future__ import annotations

import re

from jinja2 import TemplateError, TemplateSyntaxError

MAX_OUTPUT_CHARS = 10 * 1024 * 1024
MAX_RANGE_ITEMS = 100_000
# Loop iterations plus calls (functions, macros) in one render: stops templates that
# would spin for hours without printing anything.
MAX_OPERATIONS = 1_000_000
MAX_RENDER_DEPTH = 10
# Wall time of one render when nothing shorter applies (a task's timeout): a render holds
# the transaction that claimed its task, so it must not run for long.
MAX_RENDER_SECONDS = 10.0


class ExpressionError(Exception):
    """An expression that could not be rendered: which one, and why."""

    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"Could not render '{expression}': {reason}")


class InvalidSyntax(Exception):
    """Pebble text that does not parse; the message says what is wrong."""


class LimitExceeded(Exception):
    """A template asked for more than a render may take (size, items, work)."""


class FilterError(ValueError):
    """A filter or function given something it cannot work with; says what."""


_UNKNOWN = re.compile(r"No (filter|test) named '([^']+)'(?: found)?\.?")
_NO_ATTRIBUTE = re.compile(r"'[^']*' has no attribute '([^']+)'")


def reason(error: BaseException, expression: str) -> str:
    message = str(error)
    if isinstance(error, TemplateError | LimitExceeded | ValueError | ArithmeticError) and message:
        message = _UNKNOWN.sub(lambda m: f"Unknown {m.group(1)} '{m.group(2)}'", message)
        if isinstance(error, TemplateSyntaxError):
            message = message.replace("_fs_", "")
        return _name_the_owner(message, expression)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _name_the_owner(message: str, expression: str) -> str:
    """``'dict object' has no attribute 'nme'`` becomes ``'inputs' has no attribute 'nme'``."""
    found = _NO_ATTRIBUTE.fullmatch(message)
    if found is None:
        return message
    name = re.escape(found.group(1))
    owner = re.search(
        r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[[^\]]*\])*)"
        + rf"(?:\.{name}\b|\[\s*['\"]{name}['\"]\s*\])",
        expression,
    )
    if owner is None:
        return message
    return f"'{owner.group(1)}' has no attribute '{found.group(1)}'"

"""Kestra's expression language (Pebble) rendered in Jinja2's sandbox.

Flows written from Kestra's documentation use Pebble: ``{{ inputs.x ?? 'd' }}``,
``{{ a ? b : c }}``, ``{{ list contains x }}``, ``{% elseif %}``, zero-based ``loop.index``,
``range(0, 3)`` that includes 3, and Kestra's filters (``date``, ``dateAdd``, ``jq``,
``slugify``...). Each ``{{ }}`` and ``{% %}`` is parsed with Pebble's precedence and
written back as a Jinja expression, which Jinja's ``SandboxedEnvironment`` compiles once
(cached by text) and runs without reaching Python internals, files or the network.

Rendering is strict like Kestra's: a missing variable or attribute fails, naming the
``{{ }}`` that failed and why. Output follows Pebble: ``true``/``false``, null as nothing,
maps and lists as compact JSON, instants as ``2026-11-24T10:00:00.123Z``.

The pieces, in the order a render uses them: ``lexer`` cuts a template into text and
blocks, ``parser`` translates each block to Jinja, ``sandbox`` compiles and runs it with
``operators`` for Pebble's operators, ``filters`` (text, list, number, ``dates``, ``jq``)
and ``functions``; ``printing`` says how values print and ``errors`` how a render fails.
"""

from __future__ import annotations

from .errors import ExpressionError
from .render_state import render_bounds
from .sandbox import has_expression, is_truthy, render, render_value

__all__ = [
    "ExpressionError",
    "has_expression",
    "is_truthy",
    "render",
    "render_bounds",
    "render_value",
]

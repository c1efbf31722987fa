"""Rendering: Pebble translated by ``parser``, compiled once in Jinja's sandbox, run
against a context with the limits of ``errors``.

The sandbox lets a template read data and call filters and functions, nothing else:
no ``_private`` attributes, no methods, no files or network. Rendering is strict like
Kestra's: a missing variable or attribute fails, naming the ``{{ }}`` that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from .errors import (
    MAX_OUTPUT_CHARS,
    MAX_RENDER_DEPTH,
    ExpressionError,
    InvalidSyntax,
    LimitExceeded,
    reason,
)
from .filters import FILTERS, TESTS
from .functions import FUNCTIONS
from .lexer import Block, RawText, split_template
from .operators import OPERATOR_TESTS, OPERATORS
from .parser import tag_expression, translate_expression, translate_tag
from .printing import to_json, to_text
from .render_state import RenderState, current, running


def has_expression(text: str) -> bool:
    return "{{" in text or "{%" in text


def is_truthy(rendered: str) -> bool:
    """Kestra's If: ``false``, ``0``, ``-0`` and blank are false, anything else true."""
    return rendered.strip().lower() not in {"false", "0", "-0", ""}


def render(template: str, context: Mapping[str, Any]) -> str:
    if "{{" not in template and "{%" not in template:
        return template
    return _compiled(template).run(context)


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Renders every string inside dicts and lists, keys included; other values as they are."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, dict):
        return {render_value(k, context): render_value(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(item, context) for item in value]
    return value


@dataclass(frozen=True)
class _Compiled:
    template: str
    blocks: tuple[Block, ...]
    jinja: Any

    def run(self, context: Mapping[str, Any]) -> str:
        outer = running.get()
        depth = outer.depth + 1 if outer else 0
        if depth > MAX_RENDER_DEPTH:
            raise ExpressionError(self.template, f"render() is nested more than {depth - 1} deep")
        state = RenderState(depth)
        token = running.set(state)
        try:
            size = 0
            chunks = []
            for chunk in self.jinja.generate(context):
                state.count(0)  # the deadline and the kill are checked between chunks too
                size += len(chunk)
                if size > MAX_OUTPUT_CHARS:
                    raise LimitExceeded(f"the output is larger than {MAX_OUTPUT_CHARS} characters")
                chunks.append(chunk)
            return "".join(chunks)
        except ExpressionError:
            raise
        except Exception as exc:
            failed = self.blocks[state.block] if state.block >= 0 else None
            expression = failed.source if failed else self.template
            raise ExpressionError(expression, reason(exc, expression)) from exc
        finally:
            running.reset(token)


@lru_cache(maxsize=4096)
def _compiled(template: str) -> _Compiled:
    blocks: list[Block] = []
    pieces: list[str] = []
    for part in split_template(template):
        if isinstance(part, RawText):
            pieces.append("{% raw %}" + part + "{% endraw %}")
            continue
        if isinstance(part, str):
            pieces.append(part)
            continue
        index = len(blocks)
        blocks.append(part)

        def marked(text: str, index: int = index) -> str:
            return f"(_fs_mark({index}) or ({translate_expression(text)}))"

        try:
            if part.kind == "print":
                body = marked(part.body)
                opener, closer = "{{", "}}"
            else:
                body = translate_tag(part.body, marked)
                opener, closer = "{%", "%}"
        except InvalidSyntax as exc:
            raise ExpressionError(part.source, str(exc)) from None
        left = "-" if part.trim_left else ""
        right = "-" if part.trim_right else ""
        pieces.append(f"{opener}{left} {body} {right}{closer}")
    try:
        jinja = _environment.from_string("".join(pieces))
    except TemplateError as exc:
        expression, why = _locate_compile_error(template, blocks, exc)
        raise ExpressionError(expression, why) from None
    jinja.globals = dict(jinja.globals)  # a plain dict: Jinja copies it on every render
    return _Compiled(template, tuple(blocks), jinja)


def _locate_compile_error(
    template: str, blocks: list[Block], error: TemplateError
) -> tuple[str, str]:
    """Jinja names a line of the translated text; compile blocks alone to find the culprit."""
    for block in blocks:
        expression = block.body if block.kind == "print" else tag_expression(block.body)
        if expression is None:
            continue
        try:
            _environment.from_string("{{ " + translate_expression(expression) + " }}")
        except TemplateError as exc:
            return block.source, reason(exc, block.source)
    return template, reason(error, template)


class _Undefined(StrictUndefined):
    """Strict when used, chainable when walked, so ``trigger.body.x ?? 'd'`` can fall back
    while ``{{ trigger.body.x }}`` still fails naming the first missing piece."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> Any:
        return self


class _Sandbox(SandboxedEnvironment):
    """Maps answer with their keys (never their methods); other values expose plain data
    only: no ``_private`` attributes and no methods to call."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Undefined):
            return obj
        if isinstance(obj, Mapping):
            if attribute in obj:
                return obj[attribute]
            if attribute.startswith("_"):
                return self.unsafe_undefined(obj, attribute)
            return self.undefined(obj=obj, name=attribute)
        # Checked before Jinja's own lookup, which hands out a wrapped str.format.
        value = getattr(obj, attribute, None) if not attribute.startswith("_") else None
        if attribute.startswith("_") or callable(value):
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Undefined):
            return obj
        if isinstance(obj, Mapping):
            if argument in obj:
                return obj[argument]
            if isinstance(argument, str) and argument.startswith("_"):
                return self.unsafe_undefined(obj, argument)
            return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_") or callable(value):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        return self.undefined(
            f"access to {attribute!r} of a {type(obj).__name__!r} value is unsafe:"
            " only data can be read, and only filters and functions called",
            name=attribute,
            obj=obj,
            exc=SecurityError,
        )

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        current().count()
        for argument in (*args, *kwargs.values()):
            if isinstance(argument, Undefined):
                argument._fail_with_undefined_error()
        return super().call(__context, __obj, *args, **kwargs)


def _user_context(context: Context) -> dict[str, Any]:
    """The variables a render was given (and ``set``), without the engine's helpers."""
    return {
        key: value
        for key, value in context.get_all().items()
        if not (key in _environment.globals and _environment.globals[key] is value)
    }


@pass_context
def _render_function(context: Context, text: Any, recursive: bool = True) -> Any:
    """Kestra's ``render()``: renders a variable holding expressions, by default until it
    holds no more of them."""
    if not isinstance(text, str):
        return text
    variables = _user_context(context)
    rendered = render(text, variables)
    passes = 1
    while recursive and rendered != text and has_expression(rendered):
        passes += 1
        if passes > MAX_RENDER_DEPTH:
            raise LimitExceeded(f"render() still finds expressions after {MAX_RENDER_DEPTH} passes")
        text, rendered = rendered, render(rendered, variables)
    return rendered


@pass_context
def _render_once(context: Context, text: Any) -> Any:
    return _render_function(context, text, recursive=False)


@pass_context
def _print_context(context: Context) -> str:
    return to_json(_without_callables(_user_context(context)))


def _without_callables(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_callables(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, list | tuple):
        return [_without_callables(item) for item in value if not callable(item)]
    return value


_HELPERS: dict[str, Callable[..., Any]] = {
    "render": _render_function,
    "renderOnce": _render_once,
    "printContext": _print_context,
    **OPERATORS,
}


def _build_environment() -> _Sandbox:
    environment = _Sandbox(
        undefined=_Undefined,
        finalize=to_text,
        autoescape=False,
        keep_trailing_newline=True,
        cache_size=0,
    )
    environment.filters = dict(FILTERS)
    environment.tests.update({**TESTS, **OPERATOR_TESTS})
    environment.globals = {**FUNCTIONS, **_HELPERS}
    return environment


_environment = _build_environment()

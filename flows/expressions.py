"""Kestra's expression language (Pebble) rendered in Jinja2's sandbox.

Flows written from Kestra's documentation use Pebble: ``{{ inputs.x ?? 'd' }}``,
``{{ a ? b : c }}``, ``{{ list contains x }}``, ``{% elseif %}``, zero-based ``loop.index``,
``range(0, 3)`` that includes 3, and Kestra's filters (``date``, ``dateAdd``, ``jq``,
``slugify``...). Each ``{{ }}`` and ``{% %}`` is parsed here with Pebble's precedence and
written back as a Jinja expression, which Jinja's ``SandboxedEnvironment`` compiles once
(cached by text) and runs without reaching Python internals, files or the network.

Rendering is strict like Kestra's: a missing variable or attribute fails, naming the
``{{ }}`` that failed and why. Output follows Pebble: ``true``/``false``, null as nothing,
maps and lists as compact JSON, instants as ``2026-11-24T10:00:00.123Z``. The filters,
tests and functions themselves live in ``flows.expression_library``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, Undefined, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from .expression_library import (
    FILTERS,
    FUNCTIONS,
    MAX_OUTPUT_CHARS,
    MAX_RANGE_ITEMS,
    TESTS,
    LimitExceeded,
    is_number,
    pebble_range,
    to_json,
    to_text,
)

# Loop iterations plus calls (functions, macros) in one render: stops templates that
# would spin for hours without printing anything.
MAX_OPERATIONS = 1_000_000
MAX_RENDER_DEPTH = 10


class ExpressionError(Exception):
    """An expression that could not be rendered: which one, and why."""

    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"Could not render '{expression}': {reason}")


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


# ---------------------------------------------------------------------------------------
# Pebble templates split into text, {{ prints }} and {% tags %}


class _Invalid(Exception):
    """Pebble text that does not parse; the message says what is wrong."""


class _RawText(str):
    """The inside of ``{% raw %}``: printed as written."""


@dataclass(frozen=True)
class _Block:
    kind: str  # "print" or "tag"
    source: str  # as written, delimiters included
    body: str  # between the delimiters, without whitespace-control dashes
    trim_left: bool
    trim_right: bool


_OPENING = re.compile(r"\{[{%#]")
_ENDRAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")


def _split_template(template: str) -> Iterator[str | _RawText | _Block]:
    """Yields text and blocks; a ``{% raw %}`` section comes out as text."""
    position = 0
    while True:
        found = _OPENING.search(template, position)
        if found is None:
            if position < len(template):
                yield template[position:]
            return
        start = found.start()
        if start > position:
            yield template[position:start]
        opener = found.group()
        if opener == "{#":
            end = template.find("#}", start + 2)
            if end < 0:
                raise ExpressionError(template[start:], "the comment is never closed with '#}'")
            position = end + 2
            continue
        end = _block_end(template, start, "}}" if opener == "{{" else "%}")
        source = template[start:end]
        inner = source[2:-2]
        trim_left, trim_right = inner.startswith("-"), inner.endswith("-")
        body = inner[1 if trim_left else 0 : len(inner) - 1 if trim_right else len(inner)].strip()
        kind = "print" if opener == "{{" else "tag"
        if kind == "tag" and body == "raw":
            closing = _ENDRAW.search(template, end)
            if closing is None:
                raise ExpressionError(source, "'{% raw %}' is never closed with '{% endraw %}'")
            yield _RawText(template[end : closing.start()])
            position = closing.end()
            continue
        yield _Block(kind, source, body, trim_left, trim_right)
        position = end


def _block_end(template: str, start: int, closer: str) -> int:
    """Where a block ends: its closer outside quotes, after any ``{ }`` map it holds."""
    depth = 0
    quote = ""
    index = start + 2
    while index < len(template):
        char = template[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif template.startswith(closer, index) and depth == 0:
            return index + 2
        elif char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        index += 1
    opener = template[start : start + 2]
    raise ExpressionError(
        template[start : start + 60], f"'{opener}' is never closed with '{closer}'"
    )


# ---------------------------------------------------------------------------------------
# Pebble expressions written back as Jinja expressions


class _Token(NamedTuple):
    kind: str  # "num", "str", "name", "op", "end"
    text: str


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)[lLdDfF]?(?![A-Za-z_])
      | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>\?\?\?|\?\?|==|!=|<=|>=|\.\.|[-+*/%~|?:.,()\[\]{}<>=])
    )""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        found = _TOKEN.match(text, position)
        if found is None:
            raise _Invalid(f"unexpected '{text[position:].strip()[:1]}'")
        kind = found.lastgroup or "op"
        tokens.append(_Token(kind, found.group(kind)))
        position = found.end()
    tokens.append(_Token("end", ""))
    return tokens


def _string_value(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), literal[1:-1])


# Pebble's binary operators and their precedence (higher binds tighter).
_BINARY = {
    "or": 10,
    "and": 15,
    "is": 20,
    "contains": 20,
    "in": 20,
    "not in": 20,
    "==": 30,
    "equals": 30,
    "!=": 30,
    "<": 30,
    ">": 30,
    "<=": 30,
    ">=": 30,
    "+": 40,
    "-": 40,
    "*": 60,
    "/": 60,
    "%": 60,
    "|": 100,
    "~": 110,
    "..": 120,
    "??": 120,
    "???": 120,
}
_UNARY_PRECEDENCE = 500
_LITERALS = {"true": "true", "false": "false", "null": "none", "none": "none"}
_TESTS = {"null": "none", "map": "mapping"}
_LOOP_ATTRIBUTES = {"index": "index0", "revindex": "revindex0"}


def _described(token: _Token) -> str:
    return "the end of the expression" if token.kind == "end" else f"'{token.text}'"


class _Parser:
    """Pebble's precedence climbing; emits a fully parenthesised Jinja expression."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.position = 0

    def parse(self) -> str:
        expression = self.expression(0)
        if self.peek().kind != "end":
            raise _Invalid(f"unexpected {_described(self.peek())}")
        return expression

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text or token.kind in {"str", "end"}:
            raise _Invalid(f"expected '{text}' but found {_described(token)}")

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token.kind in {"op", "name"} and token.text in texts

    def binary_operator(self) -> str | None:
        token = self.peek()
        if token.kind not in {"op", "name"}:
            return None
        if token.text == "not" and self.peek(1).text == "in":
            return "not in"
        return token.text if token.text in _BINARY else None

    def expression(self, min_precedence: int) -> str:
        left = self.unary()
        while (operator := self.binary_operator()) is not None:
            precedence = _BINARY[operator]
            if precedence < min_precedence:
                break
            self.position += 2 if operator == "not in" else 1
            if operator == "|":
                left = self.filter_call(left)
            elif operator == "is":
                left = self.test(left)
            else:
                left = _combine(operator, left, self.expression(precedence + 1))
        if min_precedence == 0 and self.at("?"):
            self.take()
            when_true = self.expression(0)
            self.expect(":")
            when_false = self.expression(0)
            left = f"(({when_true}) if ({left}) else ({when_false}))"
        return left

    def unary(self) -> str:
        if self.at("not"):
            self.take()
            return f"(not {self.expression(_UNARY_PRECEDENCE)})"
        if self.at("-", "+"):
            sign = self.take().text
            return f"({sign}{self.expression(_UNARY_PRECEDENCE)})"
        return self.postfix(self.primary())

    def primary(self) -> str:
        token = self.take()
        if token.kind == "num":
            return re.sub(r"[lLdDfF]$", "", token.text)
        if token.kind == "str":
            return repr(_string_value(token.text))
        if token.kind == "name":
            if token.text in _LITERALS:
                return _LITERALS[token.text]
            if self.at("("):
                return f"{token.text}({self.arguments()})"
            return token.text
        if token.text == "(":
            inner = self.expression(0)
            self.expect(")")
            return f"({inner})"
        if token.text == "[":
            return f"[{', '.join(self.items(']', self.expression))}]"
        if token.text == "{":
            return "{" + ", ".join(self.items("}", self.map_entry)) + "}"
        raise _Invalid(f"expected a value but found {_described(token)}")

    def items(self, closer: str, item: Callable[[int], str]) -> list[str]:
        items = []
        while not self.at(closer):
            items.append(item(0))
            if not self.at(closer):
                self.expect(",")
        self.expect(closer)
        return items

    def map_entry(self, _: int) -> str:
        key = self.expression(0)
        self.expect(":")
        return f"{key}: {self.expression(0)}"

    def postfix(self, expression: str) -> str:
        while True:
            if self.at("."):
                self.take()
                token = self.take()
                if token.kind == "num" and token.text.isdigit():
                    expression = f"{expression}[{token.text}]"
                    continue
                if token.kind != "name":
                    raise _Invalid(f"expected a name after '.' but found {_described(token)}")
                name = token.text
                if expression == "loop":
                    name = _LOOP_ATTRIBUTES.get(name, name)
                expression = f"{expression}.{name}"
                if self.at("("):
                    expression = f"{expression}({self.arguments()})"
            elif self.at("["):
                self.take()
                index = self.expression(0)
                self.expect("]")
                expression = f"{expression}[{index}]"
            else:
                return expression

    def arguments(self) -> str:
        self.expect("(")
        arguments = []
        while not self.at(")"):
            if self.peek().kind == "name" and self.peek(1).text == "=":
                name = self.take().text
                self.take()
                arguments.append(f"{name}={self.expression(0)}")
            else:
                arguments.append(self.expression(0))
            if not self.at(")"):
                self.expect(",")
        self.expect(")")
        return ", ".join(arguments)

    def filter_call(self, left: str) -> str:
        token = self.take()
        if token.kind != "name":
            raise _Invalid(f"expected a filter name after '|' but found {_described(token)}")
        arguments = f"({self.arguments()})" if self.at("(") else ""
        return f"(({left}) | {token.text}{arguments})"

    def test(self, left: str) -> str:
        negate = " not" if self.at("not") else ""
        if negate:
            self.take()
        token = self.take()
        if token.kind != "name":
            raise _Invalid(f"expected a test name after 'is' but found {_described(token)}")
        name = _TESTS.get(token.text, token.text)
        arguments = f"({self.arguments()})" if self.at("(") else ""
        return f"(({left}) is{negate} {name}{arguments})"


def _combine(operator: str, left: str, right: str) -> str:
    helpers = {
        "contains": "_fs_contains({left}, {right})",
        "in": "_fs_contains({right}, {left})",
        "not in": "(not _fs_contains({right}, {left}))",
        "+": "_fs_add({left}, {right})",
        "*": "_fs_multiply({left}, {right})",
        "/": "_fs_divide({left}, {right})",
        "%": "_fs_modulo({left}, {right})",
        "~": "_fs_concat({left}, {right})",
        "..": "_fs_range({left}, {right})",
        # Pebble evaluates its left side once; Jinja has no let, so a path is read twice.
        "??": "(({left}) if ({left}) is _fs_present else ({right}))",
        "???": "(({left}) if ({left}) is defined else ({right}))",
        "equals": "({left} == {right})",
    }
    template = helpers.get(operator, "({left} " + operator + " {right})")
    return template.format(left=left, right=right)


def _expression(text: str) -> str:
    if not text.strip():
        raise _Invalid("the expression is empty")
    return _Parser(text).parse()


_SET = re.compile(r"set\s+([A-Za-z_]\w*)\s*=(?!=)(.*)", re.DOTALL)
_FOR = re.compile(r"for\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b\s*(.*)", re.DOTALL)
_CONDITION = re.compile(r"(if|elseif|elif)\b\s*(.*)", re.DOTALL)
_PASSED_THROUGH = {"else", "endif", "endfor", "endset", "endfilter", "endmacro"}
_PASSED_THROUGH_WITH_ARGUMENTS = {"filter", "macro", "set"}


def _tag(body: str, marked: Callable[[str], str]) -> str:
    """A ``{% %}`` tag's body in Jinja; the expressions it holds go through ``marked``."""
    if found := _CONDITION.fullmatch(body):
        keyword = "if" if found.group(1) == "if" else "elif"
        return f"{keyword} {marked(found.group(2))}"
    if found := _FOR.fullmatch(body):
        key, value, iterable = found.groups()
        if value:
            return f"for {key}, {value} in _fs_pairs({marked(iterable)})"
        return f"for {key} in _fs_iterate({marked(iterable)})"
    if found := _SET.fullmatch(body):
        return f"set {found.group(1)} = {marked(found.group(2))}"
    name = body.split(None, 1)[0] if body else ""
    if name in _PASSED_THROUGH and name == body:
        return body
    if name in _PASSED_THROUGH_WITH_ARGUMENTS:
        return body
    raise _Invalid(f"Unknown or unsupported tag '{name}'")


# ---------------------------------------------------------------------------------------
# Compiling and running


class _RenderState:
    """Where the current render is: the block it evaluates, and how much it has done."""

    __slots__ = ("block", "operations", "depth")

    def __init__(self, depth: int) -> None:
        self.block = -1
        self.operations = 0
        self.depth = depth

    def count(self, amount: int = 1) -> None:
        self.operations += amount
        if self.operations > MAX_OPERATIONS:
            raise LimitExceeded(
                f"the template does more than {MAX_OPERATIONS} loop steps and calls"
            )


_state: ContextVar[_RenderState | None] = ContextVar("flowsite_render_state", default=None)


def _current() -> _RenderState:
    state = _state.get()
    if state is None:  # a helper called outside render(): count against a throwaway state
        state = _RenderState(0)
        _state.set(state)
    return state


@dataclass(frozen=True)
class _Compiled:
    template: str
    blocks: tuple[_Block, ...]
    jinja: Any

    def run(self, context: Mapping[str, Any]) -> str:
        outer = _state.get()
        depth = outer.depth + 1 if outer else 0
        if depth > MAX_RENDER_DEPTH:
            raise ExpressionError(self.template, f"render() is nested more than {depth - 1} deep")
        state = _RenderState(depth)
        token = _state.set(state)
        try:
            size = 0
            chunks = []
            for chunk in self.jinja.generate(context):
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
            raise ExpressionError(expression, _reason(exc, expression)) from exc
        finally:
            _state.reset(token)


@lru_cache(maxsize=4096)
def _compiled(template: str) -> _Compiled:
    blocks: list[_Block] = []
    pieces: list[str] = []
    for part in _split_template(template):
        if isinstance(part, _RawText):
            pieces.append("{% raw %}" + part + "{% endraw %}")
            continue
        if isinstance(part, str):
            pieces.append(part)
            continue
        index = len(blocks)
        blocks.append(part)

        def marked(text: str, index: int = index) -> str:
            return f"(_fs_mark({index}) or ({_expression(text)}))"

        try:
            if part.kind == "print":
                body = marked(part.body)
                opener, closer = "{{", "}}"
            else:
                body = _tag(part.body, marked)
                opener, closer = "{%", "%}"
        except _Invalid as exc:
            raise ExpressionError(part.source, str(exc)) from None
        left = "-" if part.trim_left else ""
        right = "-" if part.trim_right else ""
        pieces.append(f"{opener}{left} {body} {right}{closer}")
    try:
        jinja = _environment.from_string("".join(pieces))
    except TemplateError as exc:
        expression, reason = _locate_compile_error(template, blocks, exc)
        raise ExpressionError(expression, reason) from None
    jinja.globals = dict(jinja.globals)  # a plain dict: Jinja copies it on every render
    return _Compiled(template, tuple(blocks), jinja)


def _locate_compile_error(
    template: str, blocks: list[_Block], error: TemplateError
) -> tuple[str, str]:
    """Jinja names a line of the translated text; compile blocks alone to find the culprit."""
    for block in blocks:
        expression = block.body
        if block.kind == "tag":
            found = _CONDITION.fullmatch(block.body) or _SET.fullmatch(block.body)
            found = found or _FOR.fullmatch(block.body)
            if found is None:
                continue
            expression = found.groups()[-1]
        try:
            _environment.from_string("{{ " + _expression(expression) + " }}")
        except TemplateError as exc:
            return block.source, _reason(exc, block.source)
    return template, _reason(error, template)


_UNKNOWN = re.compile(r"No (filter|test) named '([^']+)'(?: found)?\.?")
_NO_ATTRIBUTE = re.compile(r"'[^']*' has no attribute '([^']+)'")


def _reason(error: BaseException, expression: str) -> str:
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


# ---------------------------------------------------------------------------------------
# The sandbox


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
        from jinja2.sandbox import SecurityError

        return self.undefined(
            f"access to {attribute!r} of a {type(obj).__name__!r} value is unsafe:"
            " only data can be read, and only filters and functions called",
            name=attribute,
            obj=obj,
            exc=SecurityError,
        )

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _current().count()
        for argument in (*args, *kwargs.values()):
            if isinstance(argument, Undefined):
                argument._fail_with_undefined_error()
        return super().call(__context, __obj, *args, **kwargs)


# ---------------------------------------------------------------------------------------
# Helpers the translated expressions call


def _mark(index: int) -> None:
    _current().block = index


def _iterate(value: Any) -> Iterator[Any]:
    """Pebble walks a map as entries with ``key`` and ``value``; every step is counted."""
    state = _current()
    items: Iterable[Any] = (
        (_Entry(k, v) for k, v in value.items()) if isinstance(value, Mapping) else value
    )
    for item in items:
        state.count()
        yield item


def _pairs(value: Any) -> Iterator[Any]:
    return _iterate(value.items() if isinstance(value, Mapping) else value)


class _Entry(NamedTuple):
    key: Any
    value: Any


def _present(value: Any) -> bool:
    return not isinstance(value, Undefined) and value is not None


def _contains(container: Any, item: Any) -> bool:
    if container is None:
        return False
    if isinstance(item, list) and not isinstance(container, str):
        return all(_contains(container, one) for one in item)
    if isinstance(container, str):
        return to_text(item) in container
    return item in container


def _numbers(operator: str, left: Any, right: Any) -> None:
    if not (is_number(left) and is_number(right)):
        raise ValueError(
            f"'{operator}' needs two numbers, not {type(left).__name__} and {type(right).__name__}"
        )


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, str) or isinstance(right, str):
        return _concat(left, right)
    if isinstance(left, list):
        result = left + right if isinstance(right, list) else [*left, right]
        if len(result) > MAX_RANGE_ITEMS * 10:
            raise LimitExceeded("the list grows too large")
        return result
    _numbers("+", left, right)
    return left + right


def _multiply(left: Any, right: Any) -> Any:
    _numbers("*", left, right)
    return left * right


def _divide(left: Any, right: Any) -> Any:
    _numbers("/", left, right)
    if right == 0:
        raise ArithmeticError("division by zero")
    if isinstance(left, int) and isinstance(right, int):
        quotient = abs(left) // abs(right)  # Java's long division truncates toward zero
        return quotient if (left >= 0) == (right >= 0) else -quotient
    return left / right


def _modulo(left: Any, right: Any) -> Any:
    _numbers("%", left, right)
    if right == 0:
        raise ArithmeticError("division by zero")
    if isinstance(left, int) and isinstance(right, int):
        remainder = abs(left) % abs(right)
        return remainder if left >= 0 else -remainder
    return math.fmod(left, right)


def _concat(left: Any, right: Any) -> str:
    left_text, right_text = to_text(left), to_text(right)
    if len(left_text) + len(right_text) > MAX_OUTPUT_CHARS:
        raise LimitExceeded(f"the text grows larger than {MAX_OUTPUT_CHARS} characters")
    return left_text + right_text


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
    # What the translated expressions call; harmless if a template calls them itself.
    "_fs_mark": _mark,
    "_fs_iterate": _iterate,
    "_fs_pairs": _pairs,
    "_fs_contains": _contains,
    "_fs_add": _add,
    "_fs_multiply": _multiply,
    "_fs_divide": _divide,
    "_fs_modulo": _modulo,
    "_fs_concat": _concat,
    "_fs_range": pebble_range,
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
    environment.tests.update({**TESTS, "_fs_present": _present})
    environment.globals = {**FUNCTIONS, **_HELPERS}
    return environment


_environment = _build_environment()

"""Pebble expressions and tags written back as Jinja.

Each ``{{ }}`` and ``{% %}`` body is parsed with Pebble's precedence and written back as
a fully parenthesised Jinja expression. Pebble's operators that Jinja lacks or spells
otherwise (``contains``, ``??``, ``~`` on any value, Java's integer division) become
calls to the ``_fs_`` helpers of ``operators``; ``loop.index`` becomes zero-based.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .errors import InvalidSyntax
from .lexer import Token, string_value, tokenize

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


def _described(token: Token) -> str:
    return "the end of the expression" if token.kind == "end" else f"'{token.text}'"


class _Parser:
    """Pebble's precedence climbing; emits a fully parenthesised Jinja expression."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.position = 0

    def parse(self) -> str:
        expression = self.expression(0)
        if self.peek().kind != "end":
            raise InvalidSyntax(f"unexpected {_described(self.peek())}")
        return expression

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text or token.kind in {"str", "end"}:
            raise InvalidSyntax(f"expected '{text}' but found {_described(token)}")

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
            return repr(string_value(token.text))
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
        raise InvalidSyntax(f"expected a value but found {_described(token)}")

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
                    raise InvalidSyntax(f"expected a name after '.' but found {_described(token)}")
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
            raise InvalidSyntax(f"expected a filter name after '|' but found {_described(token)}")
        arguments = f"({self.arguments()})" if self.at("(") else ""
        return f"(({left}) | {token.text}{arguments})"

    def test(self, left: str) -> str:
        negate = " not" if self.at("not") else ""
        if negate:
            self.take()
        token = self.take()
        if token.kind != "name":
            raise InvalidSyntax(f"expected a test name after 'is' but found {_described(token)}")
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


def translate_expression(text: str) -> str:
    if not text.strip():
        raise InvalidSyntax("the expression is empty")
    return _Parser(text).parse()


_SET = re.compile(r"set\s+([A-Za-z_]\w*)\s*=(?!=)(.*)", re.DOTALL)
_FOR = re.compile(r"for\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b\s*(.*)", re.DOTALL)
_CONDITION = re.compile(r"(if|elseif|elif)\b\s*(.*)", re.DOTALL)
_PASSED_THROUGH = {"else", "endif", "endfor", "endset", "endfilter", "endmacro"}
_PASSED_THROUGH_WITH_ARGUMENTS = {"filter", "macro", "set"}


def translate_tag(body: str, marked: Callable[[str], str]) -> str:
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
    raise InvalidSyntax(f"Unknown or unsupported tag '{name}'")


def tag_expression(body: str) -> str | None:
    """The expression an ``if``, ``elseif``, ``for`` or ``set`` tag holds; None for others."""
    found = _CONDITION.fullmatch(body) or _SET.fullmatch(body) or _FOR.fullmatch(body)
    return found.groups()[-1] if found else None

"""Pebble templates cut into pieces: text, ``{{ prints }}`` and ``{% tags %}``, and the
expressions inside them cut into tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from .errors import ExpressionError, InvalidSyntax


class RawText(str):
    """The inside of ``{% raw %}``: printed as written."""


@dataclass(frozen=True)
class Block:
    kind: str  # "print" or "tag"
    source: str  # as written, delimiters included
    body: str  # between the delimiters, without whitespace-control dashes
    trim_left: bool
    trim_right: bool


_OPENING = re.compile(r"\{[{%#]")
_ENDRAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")


def split_template(template: str) -> Iterator[str | RawText | Block]:
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
            yield RawText(template[end : closing.start()])
            position = closing.end()
            continue
        yield Block(kind, source, body, trim_left, trim_right)
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


class Token(NamedTuple):
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


def tokenize(text: str) -> list[Token]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        found = _TOKEN.match(text, position)
        if found is None:
            raise InvalidSyntax(f"unexpected '{text[position:].strip()[:1]}'")
        kind = found.lastgroup or "op"
        tokens.append(Token(kind, found.group(kind)))
        position = found.end()
    tokens.append(Token("end", ""))
    return tokens


def string_value(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), literal[1:-1])

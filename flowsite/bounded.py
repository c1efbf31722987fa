"""YAML and JSON read with limits, so that a few hostile lines cannot take the server.

PyYAML keeps an alias as a reference, but everything that walks the result afterwards
(positions, validation, JSON) expands it: nine lines of "billion laughs" become
billions of values. Here the composer counts every value as if aliases were expanded
and stops at a budget, as it stops deep nesting, big documents, tags that build
anything but plain values (``!!binary``, ``!!python/...``) and numbers Python refuses
to read. Every refusal says what and where (line and column), as ``BadDocument``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.resolver import Resolver

try:  # libyaml scans and parses four times faster: a flow of 20,000 tasks in 2 s, not 9
    from yaml.cyaml import CParser as Parser  # type: ignore[attr-defined]
except ImportError:  # PyYAML built without libyaml
    from yaml.parser import Parser  # type: ignore[assignment]


@dataclass(frozen=True)
class Limits:
    chars: int = 10 * 1024 * 1024
    depth: int = 100
    # Values counted as if every alias were expanded: what a walker of the result meets.
    nodes: int = 400_000
    aliases: int = 1_000


FLOW_LIMITS = Limits()
# A value typed in a form or sent to the API (YAML and JSON inputs, fromYaml/fromJson).
VALUE_LIMITS = Limits(chars=2 * 1024 * 1024, depth=64, nodes=100_000, aliases=100)

_PLAIN = "tag:yaml.org,2002:"
# What a flow or a value may say explicitly; the rest builds bytes, sets or Python objects.
_ALLOWED_TAGS = {_PLAIN + name for name in ("str", "int", "float", "bool", "null", "seq", "map")}


class BadDocument(ValueError):
    """A document that could not be read, and where (1-based line and column)."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message, self.line, self.column = message, line, column


def _refuse(message: str, mark: Any) -> BadDocument:
    return BadDocument(message, mark.line + 1, mark.column + 1) if mark else BadDocument(message)


def _shown_tag(tag: str) -> str:
    return "!!" + tag[len(_PLAIN) :] if tag.startswith(_PLAIN) else tag


class _BoundedLoader(Composer, Parser, SafeConstructor, Resolver):
    """PyYAML's SafeLoader, its events composed here (Composer first: libyaml's parser
    composes in C too), every value counted."""

    def __init__(self, text: str, limits: Limits) -> None:
        if Parser.__module__ == "yaml.parser":  # the pure-Python parser reads through these
            yaml.reader.Reader.__init__(self, text)  # type: ignore[arg-type]
            yaml.scanner.Scanner.__init__(self)  # type: ignore[arg-type]
        Parser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.limits = limits
        self.expanded = 0
        self.aliases = 0
        self.depth = 0
        self.open_anchors: set[str] = set()
        self.sizes: dict[int, tuple[int, int]] = {}  # id(node): (values, height)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        limits = self.limits
        if isinstance(event, AliasEvent):
            return self._alias(event)
        assert isinstance(event, NodeEvent)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _ALLOWED_TAGS:
            raise _refuse(
                f"the tag {_shown_tag(str(tag))} is not allowed: write plain values",
                event.start_mark,
            )
        if isinstance(event, ScalarEvent) and (odd := _unstorable_in(event.value)):
            raise _refuse(f"{odd} is not allowed in a value", event.start_mark)
        self.expanded += 1
        if self.expanded > limits.nodes:
            raise _refuse(f"the document has more than {limits.nodes} values", event.start_mark)
        if isinstance(event, CollectionStartEvent):
            self.depth += 1
            if self.depth > limits.depth:
                raise _refuse(f"values are nested more than {limits.depth} deep", event.start_mark)
        anchor = event.anchor
        if anchor is not None:
            self.open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            if anchor is not None:
                self.open_anchors.discard(anchor)
            if isinstance(event, CollectionStartEvent):
                self.depth -= 1

    def _alias(self, event: AliasEvent) -> Node:
        limits = self.limits
        self.aliases += 1
        if self.aliases > limits.aliases:
            raise _refuse(f"the document uses more than {limits.aliases} aliases", event.start_mark)
        anchor = str(event.anchor)
        if anchor in self.open_anchors:
            raise _refuse(
                f"the alias *{anchor} refers to a value that contains it", event.start_mark
            )
        if anchor not in self.anchors:
            raise _refuse(f"the alias *{anchor} refers to no anchor above it", event.start_mark)
        target = self.anchors[anchor]
        values, height = self._measure(target)
        self.expanded += values
        if self.expanded > limits.nodes:
            raise _refuse(
                f"the alias *{anchor} expands the document past {limits.nodes} values",
                event.start_mark,
            )
        if self.depth + height > limits.depth:
            raise _refuse(
                f"the alias *{anchor} nests values more than {limits.depth} deep", event.start_mark
            )
        self.get_event()
        return target

    def _measure(self, node: Node) -> tuple[int, int]:
        """How many values ``node`` stands for once expanded, and how deep it goes."""
        known = self.sizes.get(id(node))
        if known is not None:
            return known
        values, height = 1, 0
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        for child in children:
            child_values, child_height = self._measure(child)
            values += child_values
            height = max(height, child_height + 1)
        self.sizes[id(node)] = (values, height)
        return values, height

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except BadDocument:
            raise
        except (ValueError, OverflowError) as exc:
            # int("1" * 5000) and dates like 2024-13-45: Python's error, located.
            value = str(node.value)
            shown = value if len(value) <= 30 else value[:20] + f"... ({len(value)} characters)"
            why = str(exc).split(";")[0]  # not Python's advice to call sys.set_int_max_str_digits
            raise _refuse(f"cannot read {shown}: {why}", node.start_mark) from None


def compose_yaml(text: str, limits: Limits = FLOW_LIMITS) -> tuple[Node | None, Any]:
    """The node tree of one document (for positions) and the values it describes."""
    if len(text) > limits.chars:
        raise BadDocument(f"the document has more than {limits.chars} characters")
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text, limits)
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "unreadable"
        if problem == "exceeded maximum nesting depth":  # libyaml's own limit, met scanning ahead
            raise _refuse(f"values are nested more than {limits.depth} deep", mark) from None
        raise _refuse(f"invalid YAML: {problem}", mark) from None
    except yaml.reader.ReaderError as exc:
        # A control character: the reader knows its offset (libyaml's in bytes), not its line.
        offset = exc.position
        if Parser.__module__ != "yaml.parser":
            offset = len(text.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        odd = text[offset] if offset < len(text) else "?"
        raise BadDocument(
            f"invalid YAML: the control character U+{ord(odd):04X} is not allowed", line, column
        ) from None
    except yaml.YAMLError as exc:
        raise BadDocument(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise BadDocument(f"values are nested more than {limits.depth} deep") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml(text: str, limits: Limits = VALUE_LIMITS) -> Any:
    return compose_yaml(text, limits)[1]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(text: str | bytes, limits: Limits = VALUE_LIMITS) -> Any:
    """``json.loads`` that refuses NaN, deep nesting, huge numbers and big documents."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadDocument(f"the JSON is not UTF-8 (byte {exc.start + 1})") from None
    if len(text) > limits.chars:
        raise BadDocument(f"the document has more than {limits.chars} characters")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise BadDocument(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise _json_too_deep(text, limits) from None
    except ValueError as exc:  # a number of more than 4300 digits, NaN
        raise BadDocument(f"invalid JSON: {str(exc).split(';')[0]}") from None
    if _depth(value) > limits.depth:
        raise _json_too_deep(text, limits)
    odd = unstorable(value)
    if odd:
        raise BadDocument(f"{odd} is not allowed in a value")
    return value


def _depth(value: Any) -> int:
    deepest, level = 0, [value]
    while level:
        deepest += 1
        following: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                following.extend(item.values())
            elif isinstance(item, list):
                following.extend(item)
        level = following
    return deepest - 1


def _unstorable_in(text: str) -> str | None:
    if "\x00" in text:
        return "a NUL character (\\0)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone surrogate (\\u{ord(text[exc.start]):04x})"
    return None


def unstorable(value: Any) -> str | None:
    """What in ``value`` no database stores as text or JSON (NUL, lone surrogates
    that escapes such as "\\ud800" make, numbers past a double like 1e400), or None."""
    if isinstance(value, str):
        return _unstorable_in(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f"a number too large to store ({value})"
    if isinstance(value, dict):
        items: list[Any] = [part for pair in value.items() for part in pair]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    for item in items:
        odd = unstorable(item)
        if odd:
            return odd
    return None


def _json_too_deep(text: str, limits: Limits) -> BadDocument:
    """Where the nesting first passes the limit (strings skipped)."""
    depth, line, column, in_string, escaped = 0, 1, 0, False, False
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        elif in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limits.depth:
                break
        elif char in "]}":
            depth -= 1
    return BadDocument(f"values are nested more than {limits.depth} deep", line, column)

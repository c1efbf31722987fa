"""Kestra's test flows as scripts/kestra_compat.py reads them: which ones, which are in
scope (only core and script types), and a refusal's cause named so that flows refused for
one reason group together."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FLOW_DIRS = (
    "core/src/test/resources/flows",
    "webserver/src/test/resources/flows",
    "cli/src/test/resources/flows",
)
# Named invalid, yet valid alone: Kestra's test refuses it only as the update of another flow.
VALID_ALONE = {"webserver/src/test/resources/flows/simpleInvalidFlowUpdate.yaml"}
IN_SCOPE_PREFIXES = (
    "io.kestra.plugin.core.",
    "io.kestra.core.tasks.",
    "io.kestra.core.models.",
    "io.kestra.plugin.scripts.",
)


@dataclass
class FlowFile:
    """One flow file of Kestra's tests, and what this measurement made of it."""

    path: str  # relative to the checkout
    text: str
    expected_valid: bool  # False when Kestra's tests expect it refused (invalids/, or so named)
    key: tuple[str, str] | None = None  # (namespace, id) when the file reads as one flow
    types: set[str] = field(default_factory=set)
    out_of_scope: str = ""  # why it is not counted, if it is not
    errors: list[tuple[str, str]] = field(default_factory=list)  # (message, path) refusals
    causes: list[str] = field(default_factory=list)

    @property
    def in_scope(self) -> bool:
        return not self.out_of_scope

    @property
    def accepted(self) -> bool:
        return not self.errors


def _types_in(value: Any) -> set[str]:
    """Every dotted ``type:`` a flow names: tasks, triggers, conditions, task runners."""
    found: set[str] = set()
    if isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str) and "." in kind:
            found.add(kind)
        for item in value.values():
            found |= _types_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= _types_in(item)
    return found


def test_only_types(checkout: Path) -> set[str]:
    """Classes Kestra defines in its test sources (``io.kestra.core.tasks.test.Read``):
    core by name, but no Kestra user has them."""
    found = set()
    for java in checkout.glob("*/src/test/java/**/*.java"):
        package = re.search(r"^package ([\w.]+);", java.read_text(errors="replace"), re.M)
        if package:
            found.add(f"{package.group(1)}.{java.stem}")
            for nested in re.finditer(
                r"^\s+(?:public )?(?:static )?class (\w+)", java.read_text(errors="replace"), re.M
            ):
                found.add(f"{package.group(1)}.{java.stem}.{nested.group(1)}")
                found.add(f"{package.group(1)}.{nested.group(1)}")
    return found


def flows_collect(checkout: Path) -> list[FlowFile]:
    """Every flow file of Kestra's tests, classified: in scope or not, and why."""
    test_only = test_only_types(checkout)
    flows = []
    for directory in FLOW_DIRS:
        for path in sorted((checkout / directory).rglob("*")):
            if path.suffix not in {".yml", ".yaml"} or not path.is_file():
                continue
            relative = path.relative_to(checkout).as_posix()
            # Everything under valids/ is loaded by Kestra's test runner, so must parse.
            named_invalid = "invalid" in path.name.lower() and "valids" not in path.parts
            expected_valid = "invalids" not in path.parts and not named_invalid
            expected_valid = expected_valid or relative in VALID_ALONE
            flow = FlowFile(relative, path.read_text(errors="replace"), expected_valid)
            flow_classify(flow, test_only=test_only)
            flows.append(flow)
    return flows


def flow_classify(flow: FlowFile, *, test_only: set[str]) -> None:
    try:
        documents = [d for d in yaml.safe_load_all(flow.text) if d is not None]
    except yaml.YAMLError:
        documents = []
    if len(documents) == 1 and isinstance(documents[0], dict):
        namespace, flow_id = documents[0].get("namespace"), documents[0].get("id")
        if isinstance(namespace, str) and isinstance(flow_id, str):
            flow.key = (namespace, flow_id)
    for document in documents:
        flow.types |= _types_in(document)
    other = sorted(t for t in flow.types if not t.startswith(IN_SCOPE_PREFIXES))
    only_in_tests = sorted(t for t in flow.types if t in test_only)
    if other:
        flow.out_of_scope = "other plugins: " + ", ".join(other)
    elif only_in_tests:
        flow.out_of_scope = "types of Kestra's test sources: " + ", ".join(only_in_tests)


def _short(kind: str) -> str:
    for prefix in (*IN_SCOPE_PREFIXES, "io.kestra."):
        if kind.startswith(prefix):
            return kind.removeprefix(prefix)
    return kind


def _parts(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]


def _owner(documents: Any, parts: list[str | int]) -> str:
    """What the object holding ``parts[-1]`` is: a task type, the flow, an input..."""
    value = documents
    for part in parts[:-1]:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return "?"
    if len(parts) <= 1:
        return "flows"
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        where = "input" if parts[0] == "inputs" else ""
        return f"{where} {_short(value['type'])}".strip()
    return ".".join(str(p) for p in parts[:-1] if not isinstance(p, int))


def refusal_cause(message: str, path: str, text: str) -> str:
    """A refusal, named by cause so that flows refused for one reason group together."""
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        document = None
    parts = _parts(path)
    quoted = re.search(r"'([^']+)'", message)
    if quoted and (message.startswith("Unknown property") or "is not supported yet" in message):
        return f"`{quoted.group(1)}` on {_owner(document, parts)}"
    kind = re.match(r"Unknown (task|trigger|condition|input|\w+) type '([^']+)'", message)
    if kind:
        return f"missing {kind.group(1)} type {_short(kind.group(2))}"
    # Values (ids, inputs) vary from flow to flow; a property's name says what is wrong.
    keep = 1 if message.startswith(("'", "Missing required property", "Unknown")) else 0
    pieces = re.split(r"('[^']*')", message)
    general = "".join("'…'" if n % 2 and n // 2 >= keep else part for n, part in enumerate(pieces))
    where = re.sub(r"\[\d+\]", "[]", path)
    return f"{general[:90]}" + (f" (at {where})" if where else "")


AREAS = (  # which helper of issue 12 owns a cause: the first keyword found decides
    ("language", ("`allowWarning`", "`logLevel`", "`logToFile`", "Defaults`", "defaults")),
    ("storage", ("kv", "namespaceFiles", "namespace files", "state.", "storage.")),
    ("scripts", ("dependencies", "metrics", "scripts.")),
    (
        "flowables",
        ("Each", "WorkingDirectory", "Pause", "WaitFor", "LoopUntil", "Dag", "AllowFailure")
        + ("`errors` on flow.", "`retry` on flow."),
    ),
    ("tasks", ("Echo", "http.", "log.", "Labels", "Purge", "Subflow", "Template", "execution.")),
    ("tasks", ("trigger.Toggle",)),
)


def cause_area(cause: str) -> str:
    for area, words in AREAS:
        if any(word in cause for word in words):
            return area
    return "language"

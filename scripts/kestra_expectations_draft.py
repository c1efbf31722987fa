"""Draft the table of outcomes Kestra's own Java tests assert, for kestra_compat.py.

Reads a Kestra checkout's test sources (``*/src/test/java``) and, for each test that
runs one flow (``@ExecuteFlow("flows/...")`` or ``runnerUtils.runOne(.., "ns", "id")``),
finds what it asserts on that execution simply: its final state and the number of its
task runs. The result is a draft in our own TOML format, to be read and corrected by
hand before it goes into scripts/kestra_expectations.toml: a pattern match on Java is
only a first pass (a test may pass inputs, resume a pause, or assert on another
execution). Nothing of Kestra's is copied: only flow ids, states and counts.

    .venv/bin/python scripts/kestra_expectations_draft.py KESTRA_CHECKOUT > draft.toml
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_METHOD = re.compile(r"^[ \t]+(?:public |protected |private )?(?:static )?void (\w+)\(", re.M)
_EXECUTE_FLOW = re.compile(r'@ExecuteFlow\(\s*"([^"]+)"')
# Execution x = runnerUtils.runOne(tenant, "namespace", "flow-id" ...
_RUN_ONE = re.compile(
    r'(?:Execution\s+)?(\w+)\s*=\s*(?:\w+\.)?runOne\(\s*[^,()]+(?:\(\))?\s*,\s*"([\w.]+)"\s*,'
    r'\s*"([\w.-]+)"([^;]*);'
)
_EXECUTE_PARAM = re.compile(r"\(\s*Execution\s+(\w+)")
_STATE = r"{v}\.getState\(\)\.getCurrent\(\),\s*(?:is|equalTo)\(State\.Type\.(\w+)\)"
_COUNT = (
    r"{v}\.getTaskRunList\(\),\s*hasSize\((\d+)\)"
    r"|{v}\.getTaskRunList\(\)\.size\(\),\s*(?:is|equalTo)\((\d+)\)"
)
_MAP_OF = re.compile(r"Map\.of\(([^()]*)\)")
_LITERAL = re.compile(r'\s*("(?:[^"\\]|\\.)*"|true|false|-?\d+(?:\.\d+)?)\s*(?:,|$)')
# x.findTaskRunsByTaskId("t").getFirst().getOutputs().get("value"), is("text")
_OUTPUT = (
    r'{v}\.findTaskRunsByTaskId\("([\w.-]+)"\)\.get(?:First\(\)|\(0\))\.getOutputs\(\)'
    r'\.get\("(\w+)"\)\)?(?:\.toString\(\))?,\s*(is|equalTo|containsString)\('
    r'("(?:[^"\\]|\\.)*"|true|false|-?\d+)\)\)'
)
_NO_MORE_ARGUMENTS = re.compile(r"^\s*(?:,\s*(?:null|Duration\.\w+\([^)]*\)))*\s*\)\s*$")


@dataclass(frozen=True)
class Asserted:
    namespace: str
    flow_id: str
    state: str | None
    task_runs: int | None
    with_inputs: bool  # inputs this draft could not read
    test: str
    inputs: tuple[tuple[str, Any], ...] = ()
    outputs: tuple[tuple[str, str, str, Any], ...] = ()  # (task id, output, is|contains, value)


def _flow_key(checkout: Path, resource: str) -> tuple[str, str] | None:
    for module in ("core", "webserver", "cli", "jdbc"):
        path = checkout / module / "src/test/resources" / resource
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text())
            except yaml.YAMLError:
                return None
            if isinstance(data, dict) and "id" in data and "namespace" in data:
                return str(data["namespace"]), str(data["id"])
    return None


def _literal(token: str) -> Any:
    if token.startswith('"'):
        return token[1:-1].replace('\\"', '"')
    if token in ("true", "false"):
        return token == "true"
    return float(token) if "." in token else int(token)


def _inputs(arguments: str) -> tuple[tuple[str, Any], ...] | None:
    """The inputs of a ``(f, e) -> Map.of("a", 1, ...)`` argument, when all are literals."""
    found = _MAP_OF.search(arguments)
    if not found:
        return None
    values, text = [], found.group(1).strip()
    while text:
        literal = _LITERAL.match(text)
        if not literal:
            return None
        values.append(_literal(literal.group(1)))
        text = text[literal.end() :]
    if len(values) % 2 or not all(isinstance(k, str) for k in values[::2]):
        return None
    return tuple(zip(values[::2], values[1::2], strict=True))


def _asserted(
    body: str, var: str
) -> tuple[str | None, int | None, tuple[tuple[str, str, str, Any], ...]]:
    state = re.search(_STATE.format(v=re.escape(var)), body)
    count = re.search(_COUNT.format(v=re.escape(var)), body)
    task_runs = int(count.group(1) or count.group(2)) if count else None
    outputs = tuple(
        (task, name, "contains" if how == "containsString" else "is", _literal(value))
        for task, name, how, value in re.findall(_OUTPUT.format(v=re.escape(var)), body)
    )
    return (state.group(1) if state else None), task_runs, outputs


def expectations_from_java(checkout: Path) -> list[Asserted]:
    """Every simple assertion on one flow's execution found in the checkout's tests."""
    found: list[Asserted] = []
    for java in sorted(checkout.glob("*/src/test/java/**/*.java")):
        text = java.read_text(errors="replace")
        methods = list(_METHOD.finditer(text))
        for index, method in enumerate(methods):
            start = text.rfind("\n\n", 0, method.start())
            end = methods[index + 1].start() if index + 1 < len(methods) else len(text)
            head, body = text[max(start, 0) : method.start()], text[method.start() : end]
            test = f"{java.stem}.{method.group(1)}"
            flow = _EXECUTE_FLOW.search(head)
            param = _EXECUTE_PARAM.search(body[: body.find("{")])
            if flow and param and (key := _flow_key(checkout, flow.group(1))):
                state, task_runs, outputs = _asserted(body, param.group(1))
                if state or task_runs is not None:
                    found.append(Asserted(*key, state, task_runs, False, test, (), outputs))
            runs = list(_RUN_ONE.finditer(body))
            for number, run in enumerate(runs):
                after = runs[number + 1].start() if number + 1 < len(runs) else len(body)
                state, task_runs, outputs = _asserted(body[run.end() : after], run.group(1))
                if state or task_runs is not None:
                    plain = bool(_NO_MORE_ARGUMENTS.match(run.group(4)))
                    inputs = () if plain else _inputs(run.group(4))
                    found.append(
                        Asserted(
                            run.group(2),
                            run.group(3),
                            state,
                            task_runs,
                            inputs is None,
                            test,
                            inputs or (),
                            outputs,
                        )
                    )
    return found


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _outputs_agreed(items: list[Asserted]) -> list[tuple[str, str, str, Any]]:
    """The output assertions of a case, less those its tests disagree on."""
    wanted: dict[tuple[str, str, str], set[Any]] = {}
    for item in items:
        for task, name, how, value in item.outputs:
            wanted.setdefault((task, name, how), set()).add(value)
    return [(*key, values.pop()) for key, values in wanted.items() if len(values) == 1]


def draft_toml(found: list[Asserted]) -> str:
    """One ``[[flow]]`` per flow and inputs whose tests agree; the rest (tests that
    disagree, or pass inputs the draft cannot read) are left commented out, for a
    person to decide."""
    cases: dict[tuple[str, str, tuple[tuple[str, Any], ...]], list[Asserted]] = {}
    for item in found:
        cases.setdefault((item.namespace, item.flow_id, item.inputs), []).append(item)
    lines = ["# Drafted by scripts/kestra_expectations_draft.py: read before use.", ""]
    for (namespace, flow_id, inputs), items in sorted(cases.items(), key=str):
        readable = [i for i in items if not i.with_inputs]
        states = {i.state for i in readable if i.state}
        counts = {i.task_runs for i in readable if i.task_runs is not None}
        tests = ", ".join(sorted({i.test for i in items}))
        agreed = bool(readable) and len(states) <= 1 and len(counts) <= 1
        prefix = "" if agreed else "# "
        if not agreed:
            lines.append(f"# {namespace}.{flow_id}: tests disagree or pass inputs ({tests})")
            states = {i.state for i in items if i.state}
            counts = {i.task_runs for i in items if i.task_runs is not None}
        lines.append(f"{prefix}[[flow]]")
        lines.append(f'{prefix}namespace = "{namespace}"')
        lines.append(f'{prefix}id = "{flow_id}"')
        if states:
            lines.append(f'{prefix}state = "{"|".join(sorted(states))}"')
        if counts:
            lines.append(f"{prefix}task_runs = {'|'.join(str(c) for c in sorted(counts))}")
        if inputs:
            pairs = ", ".join(f"{k} = {_toml_value(v)}" for k, v in inputs)
            lines.append(f"{prefix}inputs = {{ {pairs} }}")
        lines.append(f'{prefix}tests = "{tests}"')
        for task, name, how, value in _outputs_agreed(readable if agreed else items):
            lines.append(f"{prefix}[[flow.outputs]]")
            lines.append(f'{prefix}task = "{task}"')
            lines.append(f'{prefix}name = "{name}"')
            lines.append(f"{prefix}{how} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a work tree of kestra-io/kestra")
    args = parser.parse_args(argv)
    sys.stdout.write(draft_toml(expectations_from_java(args.checkout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

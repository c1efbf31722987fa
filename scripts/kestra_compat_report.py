"""What Kestra's tests expect (our table, scripts/kestra_expectations.toml), what a run came
to, and the report scripts/kestra_compat.py prints."""

from __future__ import annotations

import json
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.kestra_compat_flows import FlowFile, cause_area

EXPECTATIONS = Path(__file__).with_name("kestra_expectations.toml")


@dataclass(frozen=True)
class Expectation:
    namespace: str
    flow_id: str
    state: str | None
    task_runs: int | None
    inputs: dict[str, Any]
    tests: str
    at_once: int = 1
    outputs: tuple[OutputWanted, ...] = ()


@dataclass(frozen=True)
class OutputWanted:
    """An output value a test asserts: equal to ``value`` as text, or containing it."""

    task_id: str
    name: str
    value: Any
    contains: bool = False

    def check(self, found: Any) -> bool:
        text = json.dumps(found) if isinstance(found, bool) else str(found)
        wanted = json.dumps(self.value) if isinstance(self.value, bool) else str(self.value)
        return wanted in text if self.contains else wanted == text

    def __str__(self) -> str:
        how = "contains" if self.contains else "is"
        return f"{self.task_id}.{self.name} {how} {self.value!r}"


@dataclass
class RunResult:
    expectation: Expectation
    state: str
    task_runs: int
    what_happened: str = ""
    outputs_found: dict[str, Any] = field(default_factory=dict)  # "task.name": first value

    @property
    def outputs_wrong(self) -> list[str]:
        return [
            f"{wanted} (got {self.outputs_found.get(f'{wanted.task_id}.{wanted.name}')!r})"
            for wanted in self.expectation.outputs
            if not wanted.check(self.outputs_found.get(f"{wanted.task_id}.{wanted.name}"))
        ]

    @property
    def as_expected(self) -> bool:
        wanted = self.expectation
        return (
            (wanted.state is None or wanted.state == self.state)
            and (wanted.task_runs is None or wanted.task_runs == self.task_runs)
            and not self.outputs_wrong
        )


def expectations_load(path: Path = EXPECTATIONS) -> list[Expectation]:
    data = tomllib.loads(path.read_text())
    return [
        Expectation(
            namespace=entry["namespace"],
            flow_id=entry["id"],
            state=entry.get("state"),
            task_runs=entry.get("task_runs"),
            inputs=entry.get("inputs", {}),
            tests=entry.get("tests", ""),
            at_once=entry.get("at_once", 1),
            outputs=tuple(
                OutputWanted(o["task"], o["name"], o.get("is", o.get("contains")), "contains" in o)
                for o in entry.get("outputs", [])
            ),
        )
        for entry in data.get("flow", [])
    ]


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f} %)" if whole else f"{part}/0"


def report_render(
    flows: list[FlowFile],
    runs: list[RunResult] | None,
    *,
    source: str = "",
    expectations: list[Expectation] | None = None,
) -> str:
    """The report, in Markdown: figures first, then every refusal and mismatch by cause."""
    valid = [f for f in flows if f.expected_valid]
    scope = [f for f in valid if f.in_scope]
    accepted = [f for f in scope if f.accepted]
    invalids = [f for f in flows if not f.expected_valid and f.in_scope]
    lines = ["# Kestra compatibility: Kestra's own test flows on Flowsite", ""]
    if source:
        lines += [source, ""]
    lines += [
        f"- Flow files read: {len(flows)} ({len(valid)} meant valid, "
        f"{len(flows) - len(valid)} meant to be refused)",
        f"- In scope (valid, only core and script types): {len(scope)}",
        f"- **Accepted: {_pct(len(accepted), len(scope))}**",
        f"- Meant to be refused and refused: "
        f"{_pct(sum(not f.accepted for f in invalids), len(invalids))}",
    ]
    if runs is not None:
        good = [r for r in runs if r.as_expected]
        state_good = [r for r in runs if r.expectation.state in (None, r.state)]
        if expectations is not None:
            keys = {f.key for f in scope}
            asserted = sum((e.namespace, e.flow_id) in keys for e in expectations)
            lines.append(
                f"- Outcomes Kestra's tests assert on flows in scope: {asserted} "
                f"(a flow and its inputs), of which {asserted - len(runs)} on refused flows"
            )
        lines += [
            f"- Run, where Kestra's tests assert an outcome: {len(runs)}",
            f"- **Ending as Kestra expects: {_pct(len(good), len(runs))}** "
            f"(final state alone: {_pct(len(state_good), len(runs))})",
        ]
    by_cause: dict[str, list[FlowFile]] = defaultdict(list)
    for flow in scope:
        for cause in dict.fromkeys(flow.causes):
            by_cause[cause].append(flow)
    lines += ["", "## Refused, by cause (most frequent first)", ""]
    lines += ["| cause | flows | area | which |", "|---|---|---|---|"]
    for cause, members in sorted(by_cause.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        which = ", ".join(f.path.rsplit("/", 1)[-1] for f in members)
        lines.append(f"| {cause} | {len(members)} | {cause_area(cause)} | {which} |")
    if runs is not None:
        lines += ["", "## Runs that did not end as Kestra expects", ""]
        lines += ["| flow | Kestra expects | Flowsite | what happened |", "|---|---|---|---|"]
        for run in runs:
            if not run.as_expected:
                wanted = run.expectation
                expects = f"{wanted.state or 'any state'}, {wanted.task_runs or '?'} task runs"
                what = "; ".join([*run.outputs_wrong, run.what_happened[:200]])
                lines.append(
                    f"| {wanted.flow_id} | {expects} | {run.state}, {run.task_runs} task runs "
                    f"| {what.strip('; ')} |"
                )
    lines += ["", "## Meant to be refused: accepted, or refused for what reason", ""]
    for flow in invalids:
        verdict = "**accepted**" if flow.accepted else "; ".join(dict.fromkeys(flow.causes))
        lines.append(f"- {flow.path.rsplit('/', 1)[-1]}: {verdict}")
    reasons = Counter(f.out_of_scope for f in flows if not f.in_scope)
    lines += ["", "## Out of scope", ""]
    lines += [f"- {reason} ({n})" for reason, n in reasons.most_common()] or ["- none"]
    return "\n".join(line.replace("\n", " ") for line in lines) + "\n"

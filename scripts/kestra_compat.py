"""How much of Kestra's own test material Flowsite takes unchanged: a measurement run
beside the suite, never in it.

It reads a work tree of kestra-io/kestra, takes the flows of its tests
(``core/src/test/resources/flows/``, and the webserver's and cli's), keeps those that use
only core and script types (the rest are listed as out of scope), checks each with
Flowsite's own flow parser, exactly as saving or the validate API would, then runs on a
real Flowsite (a temporary database, a real worker) the accepted flows whose outcome
Kestra's Java tests assert, and compares. The outcomes Kestra expects are our own table,
scripts/kestra_expectations.toml (drafted by scripts/kestra_expectations_draft.py).

    make compat KESTRA_CHECKOUT=/path/to/kestra

A bare clone (a mirror) has no work tree: given one, the script exports the parts it reads
from its HEAD to a temporary directory first, as this would:

    git --git-dir=/work/.mirror/kestra-io+kestra/repo archive HEAD \\
        core/src/test webserver/src/test cli/src/test jdbc/src/test | tar -x -C DIR

``--no-run`` checks the flows only; ``--report FILE`` also writes the report there.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXPECTATIONS = Path(__file__).with_name("kestra_expectations.toml")
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
    expected_valid: bool  # Kestra's tests expect it refused: under invalids/, or so named
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

    @property
    def name(self) -> str:
        return f"{self.key[0]}.{self.key[1]}" if self.key else self.path


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


def _flowsite_environment(work: Path) -> None:
    """A Flowsite of its own: a temporary SQLite database, no Redis, its own queue."""
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{work / 'flowsite.sqlite3'}",
            "FLOWSITE_DATA_DIR": str(work / "data"),
            "FLOWSITE_PROCESS_NAMESPACES": "*",
            "FLOWSITE_QUEUE_NAME": f"flowsite-compat-{os.getpid()}",
            "DJANGO_SETTINGS_MODULE": "flowsite.settings",
        }
    )


def _runner() -> ModuleType:
    """scripts/kestra_compat_run.py, loaded from beside this file whichever Flowsite tree
    is measured (that tree need not have it)."""
    spec = importlib.util.spec_from_file_location(
        "kestra_compat_run", Path(__file__).with_name("kestra_compat_run.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _is_bare_repository(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def _commit(path: Path) -> str:
    """`` at <commit> (<date>)`` when ``path`` is a git repository, else nothing."""
    where = [f"--git-dir={path}"] if _is_bare_repository(path) else ["-C", str(path)]
    found = subprocess.run(
        ["git", *where, "log", "-1", "--format=%h (%cs)"], capture_output=True, text=True
    )
    return f" at {found.stdout.strip()}" if found.returncode == 0 and found.stdout else ""


def _exported(git_dir: Path, into: Path) -> Path:
    """The parts of a bare clone this reads, exported to a work tree of their own."""
    into.mkdir(parents=True)

    def present(part: str) -> bool:  # a module the checkout's HEAD has
        probe = ["git", f"--git-dir={git_dir}", "cat-file", "-e", f"HEAD:{part}"]
        return subprocess.run(probe, capture_output=True).returncode == 0

    modules = ("core", "webserver", "cli", "jdbc")
    parts = [part for part in (f"{m}/src/test" for m in modules) if present(part)]
    archive = subprocess.run(
        ["git", f"--git-dir={git_dir}", "archive", "HEAD", *parts],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Kestra's test flows, measured on Flowsite")
    parser.add_argument("checkout", type=Path, help="a work tree of kestra-io/kestra")
    parser.add_argument("--no-run", action="store_true", help="check the flows, run none")
    parser.add_argument("--report", type=Path, help="also write the report to this file")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per execution")
    parser.add_argument(
        "--flowsite",
        type=Path,
        help="the Flowsite tree to measure, e.g. another worktree (default: this one); "
        "run the script with that tree's Python",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="flowsite-compat-") as work:
        source = f"Checkout: {args.checkout}{_commit(args.checkout)}"
        if _is_bare_repository(args.checkout):
            args.checkout = _exported(args.checkout, Path(work) / "kestra")
        if not (args.checkout / FLOW_DIRS[0]).is_dir():
            parser.error(f"{args.checkout} has no {FLOW_DIRS[0]}: is it a Kestra work tree?")
        _flowsite_environment(Path(work))
        root = (args.flowsite or ROOT).resolve()
        sys.path.insert(0, str(root))
        kestra_compat_run = _runner()  # after the environment: it sets Django up

        flows = flows_collect(args.checkout)
        kestra_compat_run.flowsite_prepare(root=root)
        for flow in flows:
            flow.errors = kestra_compat_run.flow_check(flow.text)
            flow.causes = [refusal_cause(m, p, flow.text) for m, p in flow.errors]
        runs = None
        if not args.no_run:
            outcomes = kestra_compat_run.flows_run(
                flows=[f for f in flows if f.expected_valid and f.in_scope and f.accepted],
                expectations=expectations_load(),
                root=root,
                timeout=args.timeout,
            )
            runs = [RunResult(*outcome) for outcome in outcomes]
    expectations = expectations_load()
    report = report_render(flows, runs, source=source, expectations=expectations)
    sys.stdout.write(report)
    if args.report:
        args.report.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

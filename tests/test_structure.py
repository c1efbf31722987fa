"""The shape of the code: no import cycle between the project's modules, no module
over 400 lines, and no project module imported inside a function in executions/ or
flows/, where such imports were used to dodge cycles.

Every Python file tracked by git counts, the tests included: the project never
imports the tests, so they can only add cycles among themselves, and those are as
worth knowing. The checker is plain ``ast``, small enough to be tested below on a
tree of its own."""

from __future__ import annotations

import ast
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
GENERATED = "*/migrations/*"
NO_LOCAL_IMPORTS_IN = (
    "accounts/",
    "executions/",
    "flows/",
    "flowsite/",
    "namespaces/",
    "triggers/",
)
# Django imports apps.py while it fills its app registry, before any model may be
# imported: what an AppConfig needs from its app it must import when called. That is
# Django's rule, not a dodged cycle.
APP_CONFIG = "*/apps.py"
TYPE_CHECKING = ("TYPE_CHECKING", "typing.TYPE_CHECKING")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    where: str  # "path/to/file.py:line", relative to the root
    in_function: bool


def tracked_python_files(root: Path) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "*.py"], cwd=root, check=True, capture_output=True, text=True
    )
    return [root / name for name in listed.stdout.split("\0") if name]


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_statements(
    node: ast.AST, in_function: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement under ``node``, and whether it sits in a function.
    Imports inside functions count: they run as surely as the others, only later.
    Imports under ``if TYPE_CHECKING:`` do not: they never run, so they cannot make
    a cycle at run time, and they are how an annotation names a type it needs."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function
        elif isinstance(child, ast.If) and ast.unparse(child.test) in TYPE_CHECKING:
            for statement in child.orelse:
                yield from _import_statements(statement, in_function)
        elif not isinstance(child, ast.expr):  # no statement lives in an expression
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from _import_statements(child, in_function or nested)


def _imported_modules(
    statement: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: set[str]
) -> set[str]:
    """The project modules a statement imports: ``from a import b`` imports ``a.b``
    when that is a module, ``a`` otherwise. The package ``__init__`` that Python runs
    on the way to ``a.b`` is not counted: else every package whose ``__init__``
    imports its own submodules would be in a circle with each of them."""
    if isinstance(statement, ast.Import):
        return {alias.name for alias in statement.names} & modules
    base = statement.module or ""
    if statement.level:
        package = importer.split(".")[: None if is_package else -1]
        package = package[: len(package) - statement.level + 1]
        base = ".".join([*package, base] if base else package)
    named = {f"{base}.{alias.name}" for alias in statement.names}
    return {name if name in modules else base for name in named} & modules


def project_imports(root: Path, paths: Iterable[Path]) -> list[Import]:
    """Every import of one project module by another, found in ``paths`` under ``root``."""
    files = {module_name(path, root): path for path in paths}
    modules = set(files)
    found = []
    for importer, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        where = path.relative_to(root).as_posix()
        for statement, in_function in _import_statements(tree):
            imported = _imported_modules(statement, importer, path.name == "__init__.py", modules)
            found += [
                Import(importer, module, f"{where}:{statement.lineno}", in_function)
                for module in sorted(imported - {importer})
            ]
    return found


def import_graph(imports: Iterable[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for edge in imports:
        graph.setdefault(edge.importer, set()).add(edge.imported)
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for module in graph.get(todo.pop(), ()):
            if module not in seen:
                seen.add(module)
                todo.append(module)
    return seen


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a circle (the strongly
    connected components of more than one module), each sorted. Two modules are in
    one group when each reaches the other; the project is small enough to ask that
    of every pair."""
    reach = {module: _reachable(graph, module) for module in graph}
    groups = {
        frozenset(other for other in reach[module] if module in reach.get(other, ()))
        for module in graph
        if module in reach[module]
    }
    return sorted(sorted(group) for group in groups if len(group) > 1)


def a_cycle(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """The shortest circle from the group's first module back to itself."""
    start = group[0]
    paths = {start: [start]}
    todo = [start]
    while todo:
        module = todo.pop(0)
        for imported in sorted(graph.get(module, set()) & set(group)):
            if imported == start:
                return [*paths[module], start]
            if imported not in paths:
                paths[imported] = [*paths[module], imported]
                todo.append(imported)
    raise AssertionError(f"{group} is not a cycle")


def describe_cycle(group: list[str], imports: list[Import]) -> str:
    inside = [edge for edge in imports if edge.importer in group and edge.imported in group]
    cycle = " -> ".join(a_cycle(import_graph(inside), group))
    return f"{', '.join(group)} import each other in a circle, e.g. {cycle}:\n" + "\n".join(
        f"  {edge.where} {edge.importer} -> {edge.imported}"
        + (" (inside a function)" if edge.in_function else "")
        for edge in inside
    )


@cache
def this_projects_imports() -> list[Import]:
    return project_imports(ROOT, tracked_python_files(ROOT))


def test_no_project_modules_import_each_other_in_a_circle() -> None:
    imports = this_projects_imports()
    cycles = import_cycles(import_graph(imports))
    assert not cycles, "\n".join(describe_cycle(group, imports) for group in cycles)


def test_no_module_is_over_400_lines_but_generated_migrations() -> None:
    too_long = [
        f"{path.relative_to(ROOT).as_posix()}: {lines} lines"
        for path in tracked_python_files(ROOT)
        if not fnmatch(path.relative_to(ROOT).as_posix(), GENERATED)
        and (lines := len(path.read_text().splitlines())) > MAX_LINES
    ]
    assert not too_long, f"Over {MAX_LINES} lines:\n" + "\n".join(too_long)


def test_the_apps_import_project_modules_only_at_the_top() -> None:
    local = [
        f"{edge.where} imports {edge.imported} inside a function"
        for edge in this_projects_imports()
        if edge.in_function
        and edge.where.startswith(NO_LOCAL_IMPORTS_IN)
        and not fnmatch(edge.where.partition(":")[0], APP_CONFIG)
    ]
    assert not local, "\n".join(local)


def write_tree(root: Path, files: dict[str, str]) -> list[Path]:
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)
    return sorted(root.rglob("*.py"))


def test_the_checker_names_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    paths = write_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/models.py": "def kill():\n    from shop import engine\n",
            "shop/engine.py": "from .models import kill\n",
            "shop/views.py": "from shop.engine import *\n",
        },
    )
    imports = project_imports(tmp_path, paths)
    cycles = import_cycles(import_graph(imports))
    assert cycles == [["shop.engine", "shop.models"]]
    assert "shop.engine -> shop.models -> shop.engine:" in describe_cycle(cycles[0], imports)
    assert "shop/models.py:2 shop.models -> shop.engine (inside a function)" in describe_cycle(
        cycles[0], imports
    )


def test_the_checker_finds_no_cycle_in_a_tree_without_one(tmp_path: Path) -> None:
    paths = write_tree(
        tmp_path,
        {
            "shop/__init__.py": "from shop.models import Order\n",
            "shop/models.py": "import json\n",
            "shop/engine.py": "from shop import models\nfrom . import models as again\n",
            "shop/views.py": "import shop.engine\nfrom shop.models import Order\n",
        },
    )
    graph = import_graph(project_imports(tmp_path, paths))
    assert graph == {
        "shop": {"shop.models"},
        "shop.engine": {"shop.models"},
        "shop.views": {"shop.engine", "shop.models"},
    }
    assert import_cycles(graph) == []


def test_imports_for_the_type_checker_alone_make_no_cycle(tmp_path: Path) -> None:
    paths = write_tree(
        tmp_path,
        {
            "shop/models.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from shop.engine import Engine\n",
            "shop/engine.py": "from shop.models import Order\n",
        },
    )
    assert import_cycles(import_graph(project_imports(tmp_path, paths))) == []

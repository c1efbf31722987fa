"""The README is the operator's manual: every setting Flowsite reads from the
environment is in its Configuration table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("flowsite", "accounts", "flows", "executions", "triggers", "namespaces", "environments")
READ = re.compile(
    r"""(?:env_\w+\(\s*|os\.environ\.get\(\s*|os\.environ\[\s*|os\.getenv\(\s*|"""
    r"""environ\.get\(\s*)["']([A-Z][A-Z0-9_]+)["']"""
)
# Read from the environment, but not settings an operator sets.
NOT_SETTINGS = {
    "DJANGO_SETTINGS_MODULE",  # set by manage.py and the ASGI module themselves
    "Q_CLUSTER_NAME",  # django-q2's own, set for its child processes
    "FLOWSITE_COUNT_TRANSACTIONS",  # make bench's instrument, not a setting
    "PATH",  # where a Process task's environment finds programs
}


def settings_read() -> set[str]:
    found: set[str] = set()
    for package in SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            found.update(READ.findall(path.read_text()))
    return found - NOT_SETTINGS


def configuration_table() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Configuration")
    return readme[start : readme.index("\n## ", start + 1)]


def test_the_scan_finds_the_settings_it_is_meant_to() -> None:
    read = settings_read()
    assert {"DATABASE_URL", "FLOWSITE_PORT", "FLOWSITE_WEB_THREADS"} <= read
    assert "FLOWSITE_PYTHON_ENV_CACHE" in read  # in flowsite/settings_runners.py


def test_every_setting_flowsite_reads_is_in_the_readme_configuration_table() -> None:
    table = configuration_table()

    missing = sorted(name for name in settings_read() if f"`{name}`" not in table)

    assert not missing, f"add to the README's Configuration table: {', '.join(missing)}"

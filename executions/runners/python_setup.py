"""A python task's ``dependencies``, installed where its script runs, before it runs.

The packages go into a directory of the run's own temporary space (the container's, or
the Process task's TMPDIR), put first on PYTHONPATH: never into the image's or the
worker's Python, never among the working directory's files that ``outputFiles`` collects.
uv installs them when asked for (Kestra's default) and found on PATH, pip otherwise.

The installer's output is kept aside; when it fails, the script prints ``failed_marker``
and that output on stderr and stops, and the driver ends the task with its message.

This is the path of ``dependencyCacheEnabled: false``: every run installs them again.
Otherwise an environment built once stands in for the install (environments/use.py).
"""

from __future__ import annotations

import shlex

from django.conf import settings

from flows.language.tasks import PythonSetup

TARGET_PATH = "${TMPDIR:-/tmp}/flowsite-python"
TARGET = f'"{TARGET_PATH}"'
INSTALL_LOG = '"${TMPDIR:-/tmp}/flowsite-python.log"'
# Lines of the installer's output that make the task's error message (all are logged).
MESSAGE_LINES = 6


def failed_marker(task_run_id: str) -> str:
    return f"::flowsite-python-setup-failed-{task_run_id}::"


def python_setup_lines(setup: PythonSetup, *, task_run_id: str) -> list[str]:
    """Shell lines that install ``setup``'s dependencies and make them importable."""
    if not setup.dependencies:
        return []
    index = settings.FLOWSITE_PYTHON_INDEX_URL  # a company's mirror, as builds use it
    exports = [f"export UV_DEFAULT_INDEX={shlex.quote(index)} PIP_INDEX_URL={shlex.quote(index)}"]
    packages = " ".join(shlex.quote(name) for name in setup.dependencies)
    uv_wanted = "command -v uv >/dev/null 2>&1" if setup.package_manager == "UV" else "false"
    lines = [
        *(exports if index else []),
        f"mkdir -p {TARGET}",
        f'export PYTHONPATH="{TARGET_PATH}${{PYTHONPATH:+:$PYTHONPATH}}"',
        # uv when asked for and there, pip otherwise: Kestra falls back to pip too.
        f"if {uv_wanted}; then flowsite_installer=uv; set -- uv pip install --quiet "
        f"--python python --target {TARGET} {packages}; else flowsite_installer=pip; "
        f"set -- python -m pip install --quiet --no-input --target {TARGET} {packages}; fi",
        f'if ! "$@" >{INSTALL_LOG} 2>&1; then',
        f"  echo {shlex.quote(failed_marker(task_run_id))} >&2",
        f"  cat {INSTALL_LOG} >&2",
        "  exit 1",
        "fi",
        "set --",
        _log_line(
            "INFO", f"Installed {_counted(setup.dependencies)} with %s", '"$flowsite_installer"'
        ),
    ]
    if setup.python_version:
        version = shlex.quote(setup.python_version)
        warning = _log_line(
            "WARN",
            "pythonVersion is %s but this task runs Python %s",
            version,
            '"$flowsite_python"',
        )
        lines += [
            "flowsite_python=$(python -c 'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])')",
            f'case "$flowsite_python." in {shlex.quote(setup.python_version + ".")}*) ;; '
            f"*) {warning} ;; esac",
        ]
    return lines


def _counted(dependencies: tuple[str, ...]) -> str:
    many = len(dependencies) != 1
    return f"{len(dependencies)} Python {'dependencies' if many else 'dependency'}"


def _log_line(level: str, message: str, *arguments: str) -> str:
    """A shell command printing a ``::{"logs": ...}::`` line: logged at ``level``, from
    stdout, so that a warning does not end the task WARNING as stderr output would.
    ``message``'s ``%s`` take ``arguments`` (shell words, never quotes or backslashes)."""
    line = f'::{{"logs": [{{"level": "{level}", "message": "{message}"}}]}}::\\n'
    return f"printf '{line}' {' '.join(arguments)}"

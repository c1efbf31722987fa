"""Kestra turns the internal-storage URIs a script task's commands name into files of its
working directory: ``python clean.py {{ outputs.extract.uri }}`` runs on a local copy.

Each ``kestra://`` URI found in the rendered commands is replaced with a path relative
to the working directory, where the stored file is written before the commands run. The
running execution must be allowed to read it (``accounts.reach``), as for ``read()``
and ``inputFiles``: a flow cannot copy another team's files by naming them.
"""

from __future__ import annotations

import re

from accounts.reach import CrossingRefused

from .models import Execution
from .runners.base import TaskError
from .storage import storage_read_for, uri_file_name

# Kestra's own pattern for a URI inside a command.
STORAGE_URI = re.compile(r"kestra://[-a-zA-Z0-9%._+~#=/]*")
LOCAL_DIR = "_kestra_files"


def command_files_localize(
    commands: list[str], *, reader: Execution
) -> tuple[list[str], dict[str, bytes]]:
    """The commands with every stored file's URI replaced by its local path, and the
    files to write there (by path)."""
    files: dict[str, bytes] = {}
    local: dict[str, str] = {}

    def replace(found: re.Match[str]) -> str:
        uri = found.group()
        if uri not in local:
            what = f"The command's file {uri}"
            try:
                name = uri_file_name(uri)
                content = storage_read_for(reader, uri, what=what)
            except CrossingRefused as exc:
                raise TaskError(str(exc)) from None
            except (FileNotFoundError, ValueError) as exc:
                raise TaskError(f"{what}: {exc}") from None
            local[uri] = f"{LOCAL_DIR}/{len(local) + 1}/{name}"
            files[local[uri]] = content
        return local[uri]

    return [STORAGE_URI.sub(replace, command) for command in commands], files

"""The id of this Flowsite installation, which labels its task containers.

Several installations may share one Docker engine (a team's staging and production, or
the test runs of several checkouts); each one's cleanup must only remove containers it
started. Read before Django is set up (flowsite/settings.py), so no Django model here.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

INSTALLATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def installation_id(data_dir: Path, configured: str) -> str:
    """``configured`` (FLOWSITE_INSTALLATION_ID) when set, else an id generated once into
    ``data_dir``. The hosts of one installation that share a Docker engine but not a data
    directory set the same FLOWSITE_INSTALLATION_ID."""
    if configured:
        if not INSTALLATION_ID.match(configured):
            raise ImproperlyConfigured(
                f"FLOWSITE_INSTALLATION_ID={configured!r} must be 1 to 64 letters, digits, "
                "'.', '_' or '-', starting with a letter or a digit"
            )
        return configured
    id_file = data_dir / "installation_id"
    if not id_file.exists():
        # The web server and the workers may start at once: written aside then linked,
        # the file appears whole and only once, and every process reads the same id.
        draft = data_dir / f"installation_id.{os.getpid()}"
        draft.write_text(secrets.token_hex(8) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(draft, id_file)
        draft.unlink()
    value = id_file.read_text().strip()
    if not INSTALLATION_ID.match(value):
        raise ImproperlyConfigured(
            f"{id_file} holds {value!r}, which is not an installation id: delete the file "
            "to have a new one made, or set FLOWSITE_INSTALLATION_ID"
        )
    return value

"""Small typed helpers that read settings from the environment (flowsite/settings.py),
failing loudly with ImproperlyConfigured on a value they cannot read."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from flowsite.values import parse_memory


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, least: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        value = default
    else:
        try:
            value = int(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if least is not None and value < least:
        raise ImproperlyConfigured(f"{name}={value} must be at least {least}")
    return value


def env_id_range(name: str, default: str, *, least: int) -> range:
    """``FIRST-LAST`` (user ids, say) as a range, FIRST from ``least`` up."""
    raw = env_str(name, default)
    found = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", raw)
    if found is None or not least <= int(found[1]) <= int(found[2]) < 2**31 - 1:
        raise ImproperlyConfigured(
            f"{name}={raw!r} must be a range FIRST-LAST of user ids, from {least} up, "
            "FIRST not above LAST"
        )
    return range(int(found[1]), int(found[2]) + 1)


def env_float(name: str, default: float, *, least: float | None = None) -> float:
    raw = env_str(name, str(default))
    with contextlib.suppress(ValueError):
        if math.isfinite(value := float(raw)):
            if least is not None and value < least:
                raise ImproperlyConfigured(f"{name}={raw} must be at least {least:g}")
            return value
    raise ImproperlyConfigured(f"{name}={raw!r} is not a number")


def env_memory(name: str, default: str) -> int:
    """Bytes, from a size such as 512m, 1GB or a byte count."""
    raw = env_str(name, default)
    try:
        return parse_memory(raw)
    except (ValueError, OverflowError):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a memory size such as 512m") from None


def env_json_object(name: str) -> dict[str, Any]:
    raw = os.environ.get(name, "").strip()
    try:
        value = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f'{name} must be a JSON object, such as {{"region": "eu"}}')
    return value


def env_list(name: str, default: str = "", sep: str = ",") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(sep) if item.strip()]


def env_storage(data_dir: Path) -> dict[str, Any]:
    """Where execution files go (executions/storage.py): a directory under the data
    directory by default; FLOWSITE_STORAGE_BACKEND and FLOWSITE_STORAGE_OPTIONS (a JSON
    object) name any Django storage, e.g. storages.backends.s3.S3Storage with its bucket."""
    backend = env_str("FLOWSITE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    raw = env_str("FLOWSITE_STORAGE_OPTIONS", "{}")
    try:
        options = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"FLOWSITE_STORAGE_OPTIONS is not JSON: {exc}") from None
    if not isinstance(options, dict):
        raise ImproperlyConfigured("FLOWSITE_STORAGE_OPTIONS must be a JSON object")
    if backend == "django.core.files.storage.FileSystemStorage":
        options.setdefault("location", env_str("FLOWSITE_STORAGE_DIR", str(data_dir / "storage")))
        options.setdefault("allow_overwrite", True)
    return {"BACKEND": backend, "OPTIONS": options}

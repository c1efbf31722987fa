"""Small typed helpers that read settings from the environment (flowsite/settings.py),
failing loudly with ImproperlyConfigured on a value they cannot read."""

from __future__ import annotations

import contextlib
import math
import os

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


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


def env_float(name: str, default: float) -> float:
    raw = env_str(name, str(default))
    with contextlib.suppress(ValueError):
        if math.isfinite(value := float(raw)):
            return value
    raise ImproperlyConfigured(f"{name}={raw!r} is not a number")


def env_memory(name: str, default: str) -> int:
    """Bytes, from a size such as 512m, 1GB or a byte count."""
    raw = env_str(name, default)
    try:
        return parse_memory(raw)
    except (ValueError, OverflowError):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a memory size such as 512m") from None


def env_list(name: str, default: str = "", sep: str = ",") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(sep) if item.strip()]

"""Python environments as the build engine leaves them, written straight to the database:
real rows, which the page and the API read as they would read a built one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.timezone import now

from environments.models import PythonEnvironment

MB = 1024**2


def environment_row(key: str, *requested: str, **fields: Any) -> PythonEnvironment:
    """A READY environment on the engine ``docker-engine-1``, last used a minute ago."""
    built = now() - timedelta(hours=1)
    defaults: dict[str, Any] = {
        "request_key": f"request-{key}",
        "runner": PythonEnvironment.Runner.DOCKER,
        "place": "docker-engine-1",
        "place_label": "unix:///var/run/docker.sock",
        "image": "python:3.11-slim",
        "platform": "sha256:0123abcd",
        "installer": "UV",
        "requested": list(requested),
        "packages": [item.replace(">=", "==") for item in requested],
        "python_version": "3.11.9",
        "state": PythonEnvironment.State.READY,
        "size_bytes": 40 * MB,
        "runs_served": 3,
        "created_at": built,
        "built_at": built,
        "last_used_at": now() - timedelta(minutes=1),
    }
    return PythonEnvironment.objects.create(key=key, **{**defaults, **fields})

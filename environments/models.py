"""Python environments: a python task's requirements installed once, for every later run
on the same engine (or host) and image (or interpreter).

One row per environment. Its ``request_key`` names what was asked for, where: the
requirements as written, the installer, the Python platform and the engine or host; at
most one live row (BUILDING or READY) holds a request key, so two runs that want the
same environment at once build it once (environments/store.py).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from .requirements import requirement_pinned


class PythonEnvironment(models.Model):
    class State(models.TextChoices):
        BUILDING = "BUILDING"
        READY = "READY"
        FAILED = "FAILED"  # its install failed; nothing of it is kept
        RETIRED = "RETIRED"  # evicted, removed or superseded; its files are being removed

    class Runner(models.TextChoices):
        DOCKER = "docker"
        PROCESS = "process"

    key = models.CharField(max_length=32, unique=True)  # names its volume or directory
    request_key = models.CharField(max_length=64, db_index=True)
    runner = models.CharField(max_length=10, choices=Runner.choices)
    # The Docker engine's ID or the worker's host name: where its files are.
    place = models.CharField(max_length=200)
    place_label = models.CharField(max_length=300, blank=True)  # the engine's address, shown
    image = models.CharField(max_length=300, blank=True)  # as the task named it; '' for process
    platform = models.CharField(max_length=300)  # the image's id, or the interpreter's path
    installer = models.CharField(max_length=10)  # UV or PIP, as asked for
    requested = models.JSONField(default=list)  # the requirements as written, sorted
    packages = models.JSONField(default=list)  # what got installed, name==version
    python_version = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.BUILDING)
    error = models.TextField(blank=True)
    size_bytes = models.BigIntegerField(default=0)
    runs_served = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=now)
    built_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The builder's heartbeat: a BUILDING row it stopped touching lost its builder.
    touched_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-last_used_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_key"],
                condition=Q(state__in=["BUILDING", "READY"]),
                name="one_live_environment_per_request",
            )
        ]
        indexes = [models.Index(fields=["place", "state"], name="environment_place_state")]

    def __str__(self) -> str:
        return f"{self.key} ({', '.join(self.requested)})"

    @property
    def pinned(self) -> bool:
        """Every requirement names one exact version: it never needs resolving again."""
        return all(requirement_pinned(item) for item in self.requested)

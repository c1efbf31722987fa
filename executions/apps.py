from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "executions"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from . import retries  # noqa: F401 - connects its receiver

        post_spawn.connect(_warm_up_worker, dispatch_uid="flowsite-warm-up")


def _warm_up_worker(**kwargs: Any) -> None:
    """A django-q2 worker process has just started: pay its one-time costs now rather
    than on the first task a user is waiting for."""
    from .jobs import run_task_run  # noqa: F401 - imports the runners and the language
    from .runners.base import ca_bundle

    ca_bundle()

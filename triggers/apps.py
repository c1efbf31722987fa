from __future__ import annotations

from django.apps import AppConfig


class TriggersConfig(AppConfig):
    name = "triggers"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the signal receivers

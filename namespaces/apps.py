from __future__ import annotations

from django.apps import AppConfig


class NamespacesConfig(AppConfig):
    """A namespace's variables and secrets, which its flows see along with its parents'."""

    name = "namespaces"

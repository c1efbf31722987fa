from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The home page and the namespace and flow overviews: what ran, what failed, what
    runs now and what is scheduled next."""

    name = "dashboard"

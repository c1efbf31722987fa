"""Pages of teams, roles, tokens, login and the audit log. Each part adds its own lines."""

from __future__ import annotations

from django.urls import path  # noqa: F401

urlpatterns: list = []

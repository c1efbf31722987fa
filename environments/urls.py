"""The Python environments page and its REST paths (a Flowsite extension)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import api, views

urlpatterns: list[URLPattern] = [
    path("environments/", views.environments, name="environments"),
    path("environments/<str:key>/remove/", views.environment_remove, name="environment_remove"),
    path("api/v1/environments", api.environments_list),
    path("api/v1/environments/<str:key>", api.environment_item),
]

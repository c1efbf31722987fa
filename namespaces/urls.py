"""The Variables & secrets page and Kestra's namespace endpoints."""

from __future__ import annotations

from django.urls import path

from . import api, process_views, views

urlpatterns = [
    path(
        "namespaces/<str:namespace>/variables/",
        views.namespace_variables,
        name="namespace_variables",
    ),
    path(
        "namespaces/<str:namespace>/variables/<str:key>/delete/",
        views.variable_delete,
        name="variable_delete",
    ),
    path("namespaces/<str:namespace>/secrets/", views.namespace_secrets, name="namespace_secrets"),
    path(
        "namespaces/<str:namespace>/secrets/<str:key>/delete/",
        views.secret_delete,
        name="secret_delete",
    ),
    path(
        "namespaces/<str:namespace>/access/process-runner/",
        process_views.process_runner_page_switch,
        name="namespace_process_runner",
    ),
    # Kestra's REST paths.
    path("api/v1/namespaces/search", api.namespaces_search),
    path("api/v1/namespaces/<str:namespace>", api.namespace_item),
    path("api/v1/namespaces/<str:namespace>/secrets", api.secrets),
    path("api/v1/namespaces/<str:namespace>/secrets/<str:key>", api.secret_item),
    path("api/v1/namespaces/<str:namespace>/inherited-secrets", api.secrets_inherited),
    path("api/v1/namespaces/<str:namespace>/inherited-variables", api.variables_inherited),
    path("api/v1/namespaces/<str:namespace>/process-runner", process_views.process_runner_api),
]

"""The Variables & secrets page and Kestra's namespace endpoints."""

from __future__ import annotations

from django.urls import path

from . import api, files_api, kv_api, process_views, views

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
    path("api/v1/namespaces/<str:namespace>", api.namespace_item),
    path("api/v1/namespaces/<str:namespace>/secrets", api.secrets),
    path("api/v1/namespaces/<str:namespace>/secrets/<str:key>", api.secret_item),
    path("api/v1/namespaces/<str:namespace>/inherited-secrets", api.secrets_inherited),
    path("api/v1/namespaces/<str:namespace>/inherited-variables", api.variables_inherited),
    path("api/v1/namespaces/<str:namespace>/process-runner", process_views.process_runner_api),
    path("api/v1/kv", kv_api.kv_search),
    path("api/v1/namespaces/<str:namespace>/kv", kv_api.kv_list),
    path("api/v1/namespaces/<str:namespace>/kv/inheritance", kv_api.kv_inheritance),
    path("api/v1/namespaces/<str:namespace>/kv/<str:key>", kv_api.kv_item),
    path("api/v1/namespaces/<str:namespace>/files", files_api.files),
    path("api/v1/namespaces/<str:namespace>/files/directory", files_api.directory),
    path("api/v1/namespaces/<str:namespace>/files/stats", files_api.stats),
    path("api/v1/namespaces/<str:namespace>/files/search", files_api.search),
    path("api/v1/namespaces/<str:namespace>/files/export", files_api.export),
    path("api/v1/namespaces/<str:namespace>/files/revisions", files_api.revisions),
]

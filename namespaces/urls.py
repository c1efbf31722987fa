"""The Variables & secrets page and Kestra's namespace endpoints."""

from __future__ import annotations

from django.urls import path

from . import api, file_views, files_api, kv_api, kv_views, process_views, views

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
    path("namespaces/<str:namespace>/kv/", kv_views.namespace_kv, name="namespace_kv"),
    path(
        "namespaces/<str:namespace>/kv/<str:key>/delete/",
        kv_views.kv_entry_delete,
        name="kv_entry_delete",
    ),
    path("namespaces/<str:namespace>/files/", file_views.namespace_files, name="namespace_files"),
    path("namespaces/<str:namespace>/files/new/", file_views.files_new, name="namespace_files_new"),
    path(
        "namespaces/<str:namespace>/files/save/", file_views.file_save, name="namespace_file_save"
    ),
    path(
        "namespaces/<str:namespace>/files/rename/",
        file_views.file_rename,
        name="namespace_file_rename",
    ),
    path(
        "namespaces/<str:namespace>/files/delete/",
        file_views.file_delete,
        name="namespace_file_delete",
    ),
    # Kestra's REST paths.
    path("api/v1/namespaces/search", api.namespaces_search),
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

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from dashboard import views as dashboard_views
from executions import api as executions_api
from executions import api_follow, api_logs, log_page, logs_page, metrics_api, steering
from executions import file_views as executions_files
from executions import views as executions_views
from flows import api as flows_api
from flows import editor_views as flows_editor
from flows import list_views as flows_lists
from flows import revision_views as flows_revisions
from flows import views as flows_views
from flowsite import openapi_views

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("namespaces/", flows_views.namespaces, name="namespaces"),
    path("namespaces/<str:namespace>/", flows_views.namespace, name="namespace"),
    path("flows/", flows_lists.flows_list, name="flows"),
    path("flows/new/", flows_views.flow_new, name="flow_new"),
    path("flows/check/", flows_editor.flow_check, name="flow_check"),
    path("flows/<str:namespace>/<str:flow_id>/", flows_views.flow_detail, name="flow"),
    path("flows/<str:namespace>/<str:flow_id>/run/", flows_views.flow_run, name="flow_run"),
    path(
        "flows/<str:namespace>/<str:flow_id>/delete/", flows_views.flow_delete, name="flow_delete"
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/revisions/",
        flows_revisions.flow_revisions,
        name="flow_revisions",
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/revisions/diff/",
        flows_revisions.flow_revision_diff,
        name="flow_revision_diff",
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/revisions/<int:revision>/",
        flows_revisions.flow_revision,
        name="flow_revision",
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/revisions/<int:revision>/restore/",
        flows_revisions.flow_revision_restore,
        name="flow_revision_restore",
    ),
    path("executions/", executions_views.executions_list, name="executions"),
    path("logs/", logs_page.logs, name="logs"),
    path("executions/<str:execution_id>/", executions_views.execution_detail, name="execution"),
    path(
        "executions/<str:execution_id>/task-runs/",
        executions_views.execution_task_runs,
        name="execution_task_runs",
    ),
    path("executions/<str:execution_id>/logs/count", log_page.log_count, name="log_count"),
    path("executions/<str:execution_id>/logs/lines", log_page.log_lines, name="log_lines"),
    path("executions/<str:execution_id>/logs/search", log_page.log_search, name="log_search"),
    path("executions/<str:execution_id>/logs/position", log_page.log_position),
    path("executions/<str:execution_id>/logs/download", log_page.log_download),
    path(
        "executions/<str:execution_id>/kill/",
        executions_views.execution_kill,
        name="execution_kill",
    ),
    path(
        "executions/<str:execution_id>/file/",
        executions_files.execution_file,
        name="execution_file",
    ),
    path(
        "executions/<str:execution_id>/file/preview",
        executions_files.execution_file_preview,
        name="execution_file_preview",
    ),
    path(
        "executions/<str:execution_id>/labels/",
        executions_views.execution_labels,
        name="execution_labels",
    ),
    path(
        "executions/<str:execution_id>/restart/",
        steering.execution_restart_view,
        name="execution_restart",
    ),
    path(
        "executions/<str:execution_id>/replay/",
        steering.execution_replay_view,
        name="execution_replay",
    ),
    path(
        "executions/<str:execution_id>/resume/",
        steering.execution_resume_view,
        name="execution_resume",
    ),
    # Kestra's REST paths.
    path("api/v1/flows", flows_api.flows_create),
    path("api/v1/flows/validate", flows_api.flows_validate),
    path("api/v1/flows/bulk", flows_api.flows_bulk),
    path("api/v1/flows/search", flows_api.flows_search),
    path("api/v1/flows/distinct-namespaces", flows_api.flows_distinct_namespaces),
    path("api/v1/flows/<str:namespace>", flows_api.flows_of_namespace),
    path("api/v1/plugins/schemas/flow", flows_api.flow_schema_view, name="flow_schema"),
    path("api/v1/flows/<str:namespace>/<str:flow_id>", flows_api.flow_item),
    path("api/v1/executions", executions_api.executions_of_flow),
    # Before {execution_id}, which "search" would otherwise match.
    path("api/v1/executions/search", executions_api.executions_search),
    path("api/v1/executions/<str:execution_id>", executions_api.execution_item),
    # Before {first}/{second}, which "{id}/file" would otherwise match.
    path("api/v1/executions/<str:execution_id>/file", executions_files.api_execution_file),
    path(
        "api/v1/executions/<str:execution_id>/file/metas",
        executions_files.api_execution_file_metas,
    ),
    path("api/v1/executions/<str:execution_id>/restart", steering.api_execution_restart),
    path("api/v1/executions/<str:execution_id>/replay", steering.api_execution_replay),
    path("api/v1/executions/<str:execution_id>/resume", steering.api_execution_resume),
    # Kestra 1.x's spelling of the same actions.
    path("api/v1/executions/<str:execution_id>/actions/kill", executions_api.execution_kill_action),
    path("api/v1/executions/<str:execution_id>/actions/restart", steering.api_execution_restart),
    path("api/v1/executions/<str:execution_id>/actions/replay", steering.api_execution_replay),
    path("api/v1/executions/<str:execution_id>/actions/resume", steering.api_execution_resume),
    path(
        "api/v1/executions/<str:execution_id>/actions/labels", executions_api.execution_labels_set
    ),
    # Before {first}/{second}, which "{id}/follow" would otherwise match.
    path("api/v1/executions/<str:execution_id>/follow", api_follow.execution_follow),
    path("api/v1/executions/<str:execution_id>/labels", executions_api.execution_labels_set),
    # Kestra shares this shape between POST {namespace}/{id} and DELETE {id}/kill.
    path("api/v1/executions/<str:first>/<str:second>", executions_api.executions_pair),
    path("api/v1/logs/search", api_logs.logs_search),
    path("api/v1/logs/<str:execution_id>", api_logs.execution_logs),
    path("api/v1/logs/<str:execution_id>/download", api_logs.execution_logs_download),
    path("api/v1/logs/<str:execution_id>/follow", api_follow.logs_follow),
    path("swagger/kestra.yml", openapi_views.swagger_yaml, name="swagger_yaml"),
    path("api-docs/", openapi_views.api_docs, name="api_docs"),
    path("api/v1/metrics/names/<str:namespace>/<str:flow_id>", metrics_api.metric_names_of_flow),
    path(
        "api/v1/metrics/names/<str:namespace>/<str:flow_id>/<str:task_id>",
        metrics_api.metric_names_of_task,
    ),
    path("api/v1/metrics/tasks/<str:namespace>/<str:flow_id>", metrics_api.tasks_with_metrics),
    path(
        "api/v1/metrics/aggregates/<str:namespace>/<str:flow_id>/<str:metric>",
        metrics_api.metric_aggregates,
    ),
    path(
        "api/v1/metrics/aggregates/<str:namespace>/<str:flow_id>/<str:task_id>/<str:metric>",
        metrics_api.metric_aggregates,
    ),
    path("api/v1/metrics/<str:execution_id>", metrics_api.metrics_of_execution),
    path("", include("accounts.urls")),
    path("", include("triggers.urls")),
    path("", include("namespaces.urls")),
    path("", include("environments.urls")),
    path("admin/", admin.site.urls),
]

"""The permission matrix's expectations for Kestra 1.x's REST paths and the metrics API
(issue 12), beside tests/accounts/permission_expectations.py, which holds the rest."""

from __future__ import annotations

from tests.accounts.permission_expectations import API, NEW_FLOW_YAML, Case, Need

KESTRA_EXPECTATIONS: dict[str, list[Case]] = {
    "api/v1/flows/bulk": [Case("POST", "/api/v1/flows/bulk", Need.EDITOR, API, body=NEW_FLOW_YAML)],
    # Kestra 1.x's paths (issue 12); /api/v1/main/... reaches these same routes.
    "api/v1/flows/search": [
        Case("GET", "/api/v1/flows/search", Need.LOGIN, API, lists_namespace=True)
    ],
    "api/v1/flows/distinct-namespaces": [
        Case("GET", "/api/v1/flows/distinct-namespaces", Need.LOGIN, API, lists_namespace=True)
    ],
    "api/v1/flows/<str:namespace>": [Case("GET", "/api/v1/flows/{ns}", Need.VIEWER, API)],
    "api/v1/executions": [
        Case("GET", "/api/v1/executions?namespace={ns}&flowId={flow}", Need.VIEWER, API)
    ],
    "api/v1/executions/<str:execution_id>/follow": [
        Case("GET", "/api/v1/executions/{execution}/follow", Need.VIEWER, API)
    ],
    "api/v1/executions/<str:execution_id>/actions/kill": [
        Case("DELETE", "/api/v1/executions/{execution}/actions/kill", Need.RUNNER, API)
    ],
    **{
        f"api/v1/executions/<str:execution_id>/actions/{action}": [
            Case(
                "POST",
                f"/api/v1/executions/{{execution}}/actions/{action}",
                Need.RUNNER,
                API,
                conflict_allowed=True,
            )
        ]
        for action in ("restart", "replay", "resume")
    },
    "api/v1/logs/search": [Case("GET", "/api/v1/logs/search", Need.LOGIN, API)],
    "api/v1/logs/<str:execution_id>/download": [
        Case("GET", "/api/v1/logs/{execution}/download", Need.VIEWER, API)
    ],
    "api/v1/logs/<str:execution_id>/follow": [
        Case("GET", "/api/v1/logs/{execution}/follow", Need.VIEWER, API)
    ],
    "api/v1/namespaces/search": [
        Case("GET", "/api/v1/namespaces/search", Need.LOGIN, API, lists_namespace=True)
    ],
    "swagger/kestra.yml": [Case("GET", "/swagger/kestra.yml", Need.PUBLIC)],
    "api-docs/": [Case("GET", "/api-docs/", Need.LOGIN)],
    "api/v1/metrics/<str:execution_id>": [
        Case("GET", "/api/v1/metrics/{execution}", Need.VIEWER, API)
    ],
    "api/v1/metrics/names/<str:namespace>/<str:flow_id>": [
        Case("GET", "/api/v1/metrics/names/{ns}/{flow}", Need.VIEWER, API)
    ],
    "api/v1/metrics/names/<str:namespace>/<str:flow_id>/<str:task_id>": [
        Case("GET", "/api/v1/metrics/names/{ns}/{flow}/say", Need.VIEWER, API)
    ],
    "api/v1/metrics/tasks/<str:namespace>/<str:flow_id>": [
        Case("GET", "/api/v1/metrics/tasks/{ns}/{flow}", Need.VIEWER, API)
    ],
    "api/v1/metrics/aggregates/<str:namespace>/<str:flow_id>/<str:metric>": [
        Case("GET", "/api/v1/metrics/aggregates/{ns}/{flow}/rows", Need.VIEWER, API)
    ],
    "api/v1/metrics/aggregates/<str:namespace>/<str:flow_id>/<str:task_id>/<str:metric>": [
        Case("GET", "/api/v1/metrics/aggregates/{ns}/{flow}/say/rows", Need.VIEWER, API)
    ],
}

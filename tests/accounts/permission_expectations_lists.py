"""The permission matrix's expectations for the pages of the UI Kestra users expect
(issue 15): the lists across namespaces, the execution page's previews and labels,
the reader's preferences; beside tests/accounts/permission_expectations.py, which holds
the rest."""

from __future__ import annotations

from tests.accounts.permission_expectations import API, MATRIX_FILE, Case, Need

LIST_EXPECTATIONS: dict[str, list[Case]] = {
    "flows/": [Case("GET", "/flows/", Need.LOGIN, lists_namespace=True)],
    # The matrix's execution has no lines: tests/lists/test_logs_and_audit.py checks
    # that each reader sees only the lines of executions they may see.
    "logs/": [Case("GET", "/logs/", Need.LOGIN)],
    "audit/": [Case("GET", "/audit/", Need.SUPERUSER)],
    "executions/<str:execution_id>/file/preview": [
        Case("GET", "/executions/{execution}/file/preview?path=" + MATRIX_FILE, Need.VIEWER)
    ],
    "executions/<str:execution_id>/labels/": [
        Case(
            "POST", "/executions/{execution}/labels/", Need.EDITOR, body={"key": "a", "value": "b"}
        )
    ],
    "api/v1/executions/<str:execution_id>/labels": [
        Case(
            "POST",
            "/api/v1/executions/{execution}/labels",
            Need.EDITOR,
            API,
            body='[{"key": "a", "value": "b"}]',
            conflict_allowed=True,  # Kestra labels only an ended execution: 400 here
        )
    ],
    "api/v1/executions/<str:execution_id>/actions/labels": [
        Case(
            "POST",
            "/api/v1/executions/{execution}/actions/labels",
            Need.EDITOR,
            API,
            body='[{"key": "a", "value": "b"}]',
            conflict_allowed=True,
        )
    ],
    # A reader's own time zone and theme: anyone logged in, for themselves alone.
    "preferences/": [
        Case("GET", "/preferences/", Need.LOGIN),
        Case("POST", "/preferences/", Need.LOGIN, body={"time_zone": "Europe/Paris", "theme": ""}),
    ],
}

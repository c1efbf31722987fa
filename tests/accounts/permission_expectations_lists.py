"""The permission matrix's expectations for the lists across namespaces (issue 15),
beside tests/accounts/permission_expectations.py, which holds the rest."""

from __future__ import annotations

from tests.accounts.permission_expectations import Case, Need

LIST_EXPECTATIONS: dict[str, list[Case]] = {
    "flows/": [Case("GET", "/flows/", Need.LOGIN, lists_namespace=True)],
    # The matrix's execution has no lines: tests/lists/test_logs_and_audit.py checks
    # that each reader sees only the lines of executions they may see.
    "logs/": [Case("GET", "/logs/", Need.LOGIN)],
    "audit/": [Case("GET", "/audit/", Need.SUPERUSER)],
}

"""The permission matrix's expectations for the execution page's log view (issue 14),
beside tests/accounts/permission_expectations.py, which holds the rest: whoever may see
the execution page may read its lines, count, search and download them."""

from __future__ import annotations

from tests.accounts.permission_expectations import Case, Need

# position needs the line it is asked about; the others read every line by default.
QUERIES = {"count": "", "lines": "", "search": "?q=x", "position": "?id=1", "download": ""}

LOG_VIEW_EXPECTATIONS: dict[str, list[Case]] = {
    f"executions/<str:execution_id>/logs/{part}": [
        Case("GET", f"/executions/{{execution}}/logs/{part}{query}", Need.VIEWER)
    ]
    for part, query in QUERIES.items()
}

"""The permission matrix's expectations for the Python environments page and API (issue
13), beside tests/accounts/permission_expectations.py, which holds the rest."""

from __future__ import annotations

from tests.accounts.permission_expectations import API, Case, Need

# Superusers only, like Teams and Users: anyone else is answered 404.
ENVIRONMENT_EXPECTATIONS: dict[str, list[Case]] = {
    "environments/": [Case("GET", "/environments/", Need.SUPERUSER)],
    "environments/<str:key>/remove/": [
        Case("POST", "/environments/{environment}/remove/", Need.SUPERUSER)
    ],
    "api/v1/environments": [Case("GET", "/api/v1/environments", Need.SUPERUSER, API)],
    "api/v1/environments/<str:key>": [
        Case("GET", "/api/v1/environments/{environment}", Need.SUPERUSER, API),
        Case("DELETE", "/api/v1/environments/{environment}", Need.SUPERUSER, API),
    ],
}

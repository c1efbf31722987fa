"""Who may use each route: the expectations the permission matrix checks every URL
against, one Case per method and path, and the personas that ask."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from accounts.models import Role

NAMESPACE = "acme.data"
FLOW_YAML = f"""id: report
namespace: {NAMESPACE}
tasks:
  - id: say
    type: Log
    message: hello
triggers:
  - id: nightly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 2 * * *"
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: matrix-key
"""
NEW_FLOW_YAML = FLOW_YAML.replace("id: report", "id: fresh")
# A file of the world's execution, in Kestra's storage layout.
MATRIX_FILE = "kestra:///acme/data/report/executions/{execution}/inputs/matrix/m.txt"


class Need(Enum):
    PUBLIC = "anyone, logged in or not"
    LOGIN = "any logged-in user"
    VIEWER = Role.VIEWER
    RUNNER = Role.RUNNER
    EDITOR = Role.EDITOR
    ADMIN = Role.ADMIN
    SUPERUSER = "superusers only"
    STAFF = "Django admin: staff only"
    OWNER = "only the token's owner (the admin persona)"


@dataclass(frozen=True)
class Persona:
    name: str
    role: Role | None = None  # on NAMESPACE
    superuser: bool = False


PERSONAS = [
    Persona("anonymous"),
    Persona("outsider"),
    Persona("viewer", Role.VIEWER),
    Persona("runner", Role.RUNNER),
    Persona("editor", Role.EDITOR),
    Persona("admin", Role.ADMIN),
    Persona("sibling_admin"),  # Admin of acme.web: sees nothing of acme.data
    Persona("parent_admin", Role.ADMIN),  # Admin of acme: inherits acme.data
    Persona("superuser", Role.ADMIN, superuser=True),
]
BINDINGS = {
    "viewer": (NAMESPACE, Role.VIEWER),
    "runner": (NAMESPACE, Role.RUNNER),
    "editor": (NAMESPACE, Role.EDITOR),
    "admin": (NAMESPACE, Role.ADMIN),
    "sibling_admin": ("acme.web", Role.ADMIN),
    "parent_admin": ("acme", Role.ADMIN),
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {ns}, {flow}, {execution} are filled in
    need: Need
    api: bool = False
    body: str | dict[str, str] | None = None
    # For pages that answer everyone but must not show what they may not see.
    lists_namespace: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # Allowed, but the world's execution is in no state for it (restart a CREATED one).
    conflict_allowed: bool = False


WEB, API = False, True
NS_API, NS = "api/v1/namespaces/<str:namespace>", "/api/v1/namespaces/{ns}"
EXPECTATIONS: dict[str, list[Case]] = {
    "": [Case("GET", "/", Need.LOGIN)],
    "namespaces/": [Case("GET", "/namespaces/", Need.LOGIN, lists_namespace=True)],
    "namespaces/<str:namespace>/": [Case("GET", "/namespaces/{ns}/", Need.VIEWER)],
    "flows/check/": [Case("POST", "/flows/check/", Need.LOGIN, body={"source": FLOW_YAML})],
    "flows/new/": [
        Case("GET", "/flows/new/", Need.LOGIN),
        Case("POST", "/flows/new/", Need.EDITOR, body={"source": NEW_FLOW_YAML}),
    ],
    "flows/<str:namespace>/<str:flow_id>/": [
        Case("GET", "/flows/{ns}/{flow}/", Need.VIEWER),
        Case("POST", "/flows/{ns}/{flow}/", Need.EDITOR, body={"source": FLOW_YAML + "# c\n"}),
    ],
    "flows/<str:namespace>/<str:flow_id>/run/": [
        Case("POST", "/flows/{ns}/{flow}/run/", Need.RUNNER)
    ],
    "flows/<str:namespace>/<str:flow_id>/delete/": [
        Case("POST", "/flows/{ns}/{flow}/delete/", Need.EDITOR)
    ],
    "flows/<str:namespace>/<str:flow_id>/revisions/": [
        Case("GET", "/flows/{ns}/{flow}/revisions/", Need.VIEWER)
    ],
    "flows/<str:namespace>/<str:flow_id>/revisions/diff/": [
        Case("GET", "/flows/{ns}/{flow}/revisions/diff/?from=1&to=1", Need.VIEWER)
    ],
    "flows/<str:namespace>/<str:flow_id>/revisions/<int:revision>/": [
        Case("GET", "/flows/{ns}/{flow}/revisions/1/", Need.VIEWER)
    ],
    "flows/<str:namespace>/<str:flow_id>/revisions/<int:revision>/restore/": [
        Case("POST", "/flows/{ns}/{flow}/revisions/1/restore/", Need.EDITOR)
    ],
    "executions/": [Case("GET", "/executions/", Need.LOGIN, lists_namespace=True)],
    "executions/<str:execution_id>/": [Case("GET", "/executions/{execution}/", Need.VIEWER)],
    "executions/<str:execution_id>/task-runs/": [
        Case("GET", "/executions/{execution}/task-runs/", Need.VIEWER)
    ],
    "executions/<str:execution_id>/kill/": [
        Case("POST", "/executions/{execution}/kill/", Need.RUNNER)
    ],
    "executions/<str:execution_id>/file/": [
        Case("GET", "/executions/{execution}/file/?path=" + MATRIX_FILE, Need.VIEWER)
    ],
    "api/v1/executions/<str:execution_id>/file": [
        Case("GET", "/api/v1/executions/{execution}/file?path=" + MATRIX_FILE, Need.VIEWER, API)
    ],
    "api/v1/executions/<str:execution_id>/file/metas": [
        Case(
            "GET", "/api/v1/executions/{execution}/file/metas?path=" + MATRIX_FILE, Need.VIEWER, API
        )
    ],
    "executions/<str:execution_id>/restart/": [
        Case("POST", "/executions/{execution}/restart/", Need.RUNNER)
    ],
    "executions/<str:execution_id>/replay/": [
        Case("POST", "/executions/{execution}/replay/", Need.RUNNER)
    ],
    "executions/<str:execution_id>/resume/": [
        Case("POST", "/executions/{execution}/resume/", Need.RUNNER)
    ],
    "api/v1/executions/<str:execution_id>/restart": [
        Case(
            "POST",
            "/api/v1/executions/{execution}/restart",
            Need.RUNNER,
            API,
            conflict_allowed=True,
        )
    ],
    "api/v1/executions/<str:execution_id>/replay": [
        Case(
            "POST",
            "/api/v1/executions/{execution}/replay",
            Need.RUNNER,
            API,
            conflict_allowed=True,
        )
    ],
    "api/v1/executions/<str:execution_id>/resume": [
        Case(
            "POST",
            "/api/v1/executions/{execution}/resume",
            Need.RUNNER,
            API,
            conflict_allowed=True,
        )
    ],
    "api/v1/flows": [Case("POST", "/api/v1/flows", Need.EDITOR, API, body=NEW_FLOW_YAML)],
    "api/v1/flows/validate": [
        Case("POST", "/api/v1/flows/validate", Need.LOGIN, API, body=NEW_FLOW_YAML)
    ],
    "api/v1/plugins/schemas/flow": [Case("GET", "/api/v1/plugins/schemas/flow", Need.PUBLIC)],
    "api/v1/flows/<str:namespace>/<str:flow_id>": [
        Case("GET", "/api/v1/flows/{ns}/{flow}", Need.VIEWER, API),
        Case("PUT", "/api/v1/flows/{ns}/{flow}", Need.EDITOR, API, body=FLOW_YAML + "# c\n"),
        Case("DELETE", "/api/v1/flows/{ns}/{flow}", Need.EDITOR, API),
    ],
    "api/v1/executions/search": [
        Case("GET", "/api/v1/executions/search", Need.LOGIN, API, lists_namespace=True)
    ],
    "api/v1/executions/<str:execution_id>": [
        Case("GET", "/api/v1/executions/{execution}", Need.VIEWER, API)
    ],
    "api/v1/executions/<str:first>/<str:second>": [
        Case("POST", "/api/v1/executions/{ns}/{flow}", Need.RUNNER, API),
        Case("DELETE", "/api/v1/executions/{execution}/kill", Need.RUNNER, API),
    ],
    "api/v1/logs/<str:execution_id>": [Case("GET", "/api/v1/logs/{execution}", Need.VIEWER, API)],
    "password/": [Case("GET", "/password/", Need.LOGIN)],
    "password/done/": [Case("GET", "/password/done/", Need.LOGIN)],
    "namespaces/<str:namespace>/access/": [
        Case("GET", "/namespaces/{ns}/access/", Need.ADMIN),
        Case(
            "POST",
            "/namespaces/{ns}/access/",
            Need.ADMIN,
            body={"kind": "team", "name": "ops", "role": "1", "namespace": NAMESPACE},
        ),
    ],
    "namespaces/<str:namespace>/access/<int:binding_id>/": [
        Case("POST", "/namespaces/{ns}/access/{binding}/", Need.ADMIN, body={"role": "2"})
    ],
    "namespaces/<str:namespace>/access/allowed/": [
        Case("POST", "/namespaces/{ns}/access/allowed/", Need.ADMIN, body={"allowed": "other"})
    ],
    "namespaces/<str:namespace>/access/allowed/<str:allowed>/remove/": [
        Case("POST", "/namespaces/{ns}/access/allowed/other/remove/", Need.ADMIN)
    ],
    "api/v1/namespaces/<str:namespace>/allowed-namespaces": [
        Case("GET", "/api/v1/namespaces/{ns}/allowed-namespaces", Need.ADMIN, API),
        Case(
            "PUT",
            "/api/v1/namespaces/{ns}/allowed-namespaces",
            Need.ADMIN,
            API,
            body='["other"]',
        ),
    ],
    "api/v1/namespaces/<str:namespace>/allowed-namespaces/<str:allowed>": [
        Case("PUT", "/api/v1/namespaces/{ns}/allowed-namespaces/other", Need.ADMIN, API),
    ],
    "namespaces/<str:namespace>/access/<int:binding_id>/revoke/": [
        Case("POST", "/namespaces/{ns}/access/{binding}/revoke/", Need.ADMIN)
    ],
    "namespaces/<str:namespace>/audit/": [Case("GET", "/namespaces/{ns}/audit/", Need.ADMIN)],
    "teams/": [
        Case("GET", "/teams/", Need.SUPERUSER),
        Case("POST", "/teams/", Need.SUPERUSER, body={"name": "new-team"}),
    ],
    "teams/<int:team_id>/": [
        Case("GET", "/teams/{team}/", Need.SUPERUSER),
        Case("POST", "/teams/{team}/", Need.SUPERUSER, body={"username": "outsider"}),
    ],
    "teams/<int:team_id>/members/<int:user_id>/remove/": [
        Case("POST", "/teams/{team}/members/{user}/remove/", Need.SUPERUSER)
    ],
    "teams/<int:team_id>/delete/": [Case("POST", "/teams/{team}/delete/", Need.SUPERUSER)],
    "users/": [Case("GET", "/users/", Need.SUPERUSER)],
    "users/<int:user_id>/active/": [
        Case("POST", "/users/{user}/active/", Need.SUPERUSER, body={"active": "0"})
    ],
    "tokens/": [
        Case("GET", "/tokens/", Need.LOGIN),
        Case("POST", "/tokens/", Need.LOGIN, body={"name": "ci", "days": "30"}),
    ],
    "tokens/<int:token_id>/revoke/": [Case("POST", "/tokens/{token}/revoke/", Need.OWNER)],
    "admin/": [Case("GET", "/admin/", Need.STAFF)],
    "flows/<str:namespace>/<str:flow_id>/triggers/": [
        Case("GET", "/flows/{ns}/{flow}/triggers/", Need.VIEWER)
    ],
    "flows/<str:namespace>/<str:flow_id>/triggers/<str:trigger_id>/toggle/": [
        Case("POST", "/flows/{ns}/{flow}/triggers/nightly/toggle/", Need.EDITOR)
    ],
    "flows/<str:namespace>/<str:flow_id>/triggers/<str:trigger_id>/backfill/": [
        Case(
            "POST",
            "/flows/{ns}/{flow}/triggers/nightly/backfill/",
            Need.EDITOR,
            body={"start": "2024-01-01T00:00", "end": "2024-01-03T00:00"},
        )
    ],
    # The key in the URL is the credential: anyone holding it may start the flow.
    "api/v1/executions/webhook/<str:namespace>/<str:flow_id>/<str:key>": [
        Case("POST", "/api/v1/executions/webhook/{ns}/{flow}/matrix-key", Need.PUBLIC)
    ],
    "api/v1/triggers": [
        Case(
            "PUT",
            "/api/v1/triggers",
            Need.EDITOR,
            API,
            body='{"namespace": "acme.data", "flowId": "report", "triggerId": "nightly", '
            '"disabled": true}',
        )
    ],
    "api/v1/triggers/search": [
        Case("GET", "/api/v1/triggers/search", Need.LOGIN, API, lists_namespace=True)
    ],
    "api/v1/triggers/<str:namespace>/<str:flow_id>": [
        Case("GET", "/api/v1/triggers/{ns}/{flow}", Need.VIEWER, API)
    ],
    "namespaces/<str:namespace>/variables/": [
        Case("GET", "/namespaces/{ns}/variables/", Need.EDITOR),
        Case("POST", "/namespaces/{ns}/variables/", Need.ADMIN, body={"key": "k", "value": "1"}),
    ],
    "namespaces/<str:namespace>/variables/<str:key>/delete/": [
        Case("POST", "/namespaces/{ns}/variables/matrix_var/delete/", Need.ADMIN)
    ],
    "namespaces/<str:namespace>/secrets/": [
        Case("GET", "/namespaces/{ns}/secrets/", Need.EDITOR),
        Case("POST", "/namespaces/{ns}/secrets/", Need.ADMIN, body={"key": "K", "value": "v"}),
    ],
    "namespaces/<str:namespace>/secrets/<str:key>/delete/": [
        Case("POST", "/namespaces/{ns}/secrets/MATRIX_SECRET/delete/", Need.ADMIN)
    ],
    "api/v1/namespaces/<str:namespace>": [
        Case("GET", "/api/v1/namespaces/{ns}", Need.EDITOR, API),
        Case("PUT", "/api/v1/namespaces/{ns}", Need.ADMIN, API, body='{"variables": {"k": 1}}'),
    ],
    "api/v1/namespaces/<str:namespace>/secrets": [
        Case("GET", "/api/v1/namespaces/{ns}/secrets", Need.EDITOR, API),
        Case(
            "PUT",
            "/api/v1/namespaces/{ns}/secrets",
            Need.ADMIN,
            API,
            body='{"key": "K", "value": "v"}',
        ),
    ],
    "api/v1/namespaces/<str:namespace>/secrets/<str:key>": [
        Case("DELETE", "/api/v1/namespaces/{ns}/secrets/MATRIX_SECRET", Need.ADMIN, API)
    ],
    "api/v1/namespaces/<str:namespace>/inherited-secrets": [
        Case("GET", "/api/v1/namespaces/{ns}/inherited-secrets", Need.EDITOR, API)
    ],
    "api/v1/namespaces/<str:namespace>/inherited-variables": [
        Case("GET", "/api/v1/namespaces/{ns}/inherited-variables", Need.EDITOR, API)
    ],
    # The Process runner's switch: anyone who sees the namespace may know its state.
    "namespaces/<str:namespace>/access/process-runner/": [
        Case(
            "POST", "/namespaces/{ns}/access/process-runner/", Need.SUPERUSER, body={"allowed": "1"}
        )
    ],
    "api/v1/namespaces/<str:namespace>/process-runner": [
        Case("GET", "/api/v1/namespaces/{ns}/process-runner", Need.VIEWER, API),
        Case(
            "PUT",
            "/api/v1/namespaces/{ns}/process-runner",
            Need.SUPERUSER,
            API,
            body='{"allowed": true}',
        ),
    ],
    # The KV store: Editors read and write it; namespace files: Viewers read, Editors change.
    "namespaces/<str:namespace>/kv/": [
        Case("GET", "/namespaces/{ns}/kv/", Need.EDITOR),
        Case("POST", "/namespaces/{ns}/kv/", Need.EDITOR, body={"key": "k", "type": "STRING"}),
    ],
    "namespaces/<str:namespace>/kv/<str:key>/delete/": [
        Case("POST", "/namespaces/{ns}/kv/matrix_kv/delete/", Need.EDITOR)
    ],
    # Lists only the namespaces where the reader is an Editor: tests/namespaces/test_kv_api.py.
    "api/v1/kv": [Case("GET", "/api/v1/kv", Need.LOGIN, API)],
    f"{NS_API}/kv": [
        Case("GET", f"{NS}/kv", Need.EDITOR, API),
        Case("DELETE", f"{NS}/kv", Need.EDITOR, API, body='{"keys": ["k"]}'),
    ],
    f"{NS_API}/kv/inheritance": [Case("GET", f"{NS}/kv/inheritance", Need.EDITOR, API)],
    f"{NS_API}/kv/<str:key>": [
        Case("GET", f"{NS}/kv/matrix_kv", Need.EDITOR, API),
        Case("PUT", f"{NS}/kv/k", Need.EDITOR, API, body='"v"'),
        Case("DELETE", f"{NS}/kv/matrix_kv", Need.EDITOR, API),
    ],
    "namespaces/<str:namespace>/files/": [
        Case("GET", "/namespaces/{ns}/files/?path=matrix.txt", Need.VIEWER)
    ],
    **{
        f"namespaces/<str:namespace>/files/{action}/": [
            Case("POST", f"/namespaces/{{ns}}/files/{action}/", Need.EDITOR, body=body)
        ]
        for action, body in [
            ("new", {"path": "n.txt"}),
            ("save", {"path": "matrix.txt"}),
            ("rename", {"path": "matrix.txt", "to": "m2.txt"}),
            ("delete", {"path": "matrix.txt"}),
        ]
    },
    f"{NS_API}/files": [
        Case("GET", f"{NS}/files?path=matrix.txt", Need.VIEWER, API),
        Case("POST", f"{NS}/files?path=n.txt", Need.EDITOR, API, body=""),
        Case("PUT", f"{NS}/files?from=matrix.txt&to=m2.txt", Need.EDITOR, API),
        Case("DELETE", f"{NS}/files?path=matrix.txt", Need.EDITOR, API),
    ],
    f"{NS_API}/files/directory": [
        Case("GET", f"{NS}/files/directory", Need.VIEWER, API),
        Case("POST", f"{NS}/files/directory?path=d", Need.EDITOR, API),
    ],
    **{
        f"{NS_API}/files/{name}": [Case("GET", f"{NS}/files/{name}{query}", Need.VIEWER, API)]
        for name, query in [
            ("stats", "?path=matrix.txt"),
            ("search", "?q=m"),
            ("export", ""),
            ("revisions", "?path=matrix.txt"),
        ]
    },
}
# Routes whose answers another test owns, with the reason.
OWNED_ELSEWHERE = {
    "login/": "the login page answers everyone (tests/accounts/login/test_logging_in.py)",
    "logout/": "logging out needs no permission (tests/accounts/login/test_logging_in.py)",
}

"""Kestra's namespace endpoints for secrets and variables.

Secrets as Kestra EE names them: ``GET/PUT /api/v1/namespaces/{namespace}/secrets``,
``DELETE .../secrets/{key}`` and ``GET .../inherited-secrets``; no answer ever holds a
value. Variables live on Kestra's namespace object: ``GET/PUT /api/v1/namespaces/{id}``
(its ``variables``; other fields of Kestra's namespace are not kept by Flowsite) and
``GET .../inherited-variables``. Editors read, Admins change, as on the page.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.access import namespace_for_user
from accounts.audit import (
    audit_secret_deleted,
    audit_secret_set,
    audit_variable_deleted,
    audit_variable_set,
)
from accounts.models import Role
from accounts.permissions import visible
from flows.models import Flow
from flowsite.api import api_error, api_view, request_text
from flowsite.bounded import load_json
from flowsite.query_filters import FilterInvalid, paged_list

from .lookup import inherited_secret_keys, inherited_variables
from .models import NamespaceVariable, Secret, key_problem, variable_text


class BadBody(Exception):
    """The request body is not what the endpoint takes; the message says what is."""


def _json_object(request: HttpRequest, example: str) -> dict[str, Any]:
    text = request_text(request)
    try:
        body = load_json(text) if text else None
    except ValueError as exc:
        raise BadBody(f"The request body is not valid JSON ({exc}): send {example}") from None
    if not isinstance(body, dict):
        raise BadBody(f"The request body must be a JSON object such as {example}")
    return body


def _secret_meta(secret: Secret) -> dict[str, Any]:
    return {
        "key": secret.key,
        "updatedAt": secret.updated_at.isoformat(),
        "updatedBy": secret.updated_by.get_username() if secret.updated_by else None,
    }


def _own_secrets(namespace: str) -> list[dict[str, Any]]:
    secrets = Secret.objects.filter(namespace=namespace).select_related("updated_by")
    return [_secret_meta(secret) for secret in secrets]


@api_view(("GET", "PUT"))
def secrets(request: HttpRequest, namespace: str) -> HttpResponse:
    if request.method == "GET":
        namespace_for_user(request.user, namespace, need=Role.EDITOR)
        results = _own_secrets(namespace)
        return JsonResponse({"readOnly": False, "results": results, "total": len(results)})
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    try:
        key, value = _secret_from_body(request)
    except BadBody as exc:
        return api_error(422, str(exc))
    with transaction.atomic():
        created = not Secret.objects.filter(namespace=namespace, key=key).exists()
        Secret.store(namespace=namespace, key=key, value=value, user=request.user)
        audit_secret_set(actor=request.user, namespace=namespace, key=key, created=created)
    return JsonResponse(_own_secrets(namespace), safe=False)


def _secret_from_body(request: HttpRequest) -> tuple[str, str]:
    body = _json_object(request, '{"key": "API_KEY", "value": "..."}')
    key, value = body.get("key"), body.get("value")
    if not isinstance(key, str):
        raise BadBody('"key" is required and must be a string')
    if problem := key_problem(key):
        raise BadBody(problem)
    if not isinstance(value, str) or not value:
        raise BadBody(f'"value" of secret {key} is required and must be a non-empty string')
    return key, value


@api_view(("DELETE",))
def secret_item(request: HttpRequest, namespace: str, key: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    with transaction.atomic():
        deleted, _ = Secret.objects.filter(namespace=namespace, key=key).delete()
        if not deleted:
            return api_error(404, f"No secret {key} in namespace {namespace}")
        audit_secret_deleted(actor=request.user, namespace=namespace, key=key)
    return JsonResponse([key], safe=False)


@api_view(("GET",))
def secrets_inherited(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=Role.EDITOR)
    return JsonResponse(inherited_secret_keys(namespace))


def _own_variables(namespace: str) -> dict[str, Any]:
    return dict(NamespaceVariable.objects.filter(namespace=namespace).values_list("key", "value"))


def _namespace_json(namespace: str) -> dict[str, Any]:
    return {"id": namespace, "deleted": False, "variables": _own_variables(namespace)}


@api_view(("GET", "PUT"))
def namespace_item(request: HttpRequest, namespace: str) -> HttpResponse:
    """Kestra's namespace object, of which Flowsite keeps the ``variables``; a PUT
    replaces them all (keys it leaves out are deleted), as Kestra's does."""
    if request.method == "GET":
        namespace_for_user(request.user, namespace, need=Role.EDITOR)
        return JsonResponse(_namespace_json(namespace))
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    try:
        variables = _variables_from_body(request, namespace)
    except BadBody as exc:
        return api_error(422, str(exc))
    with transaction.atomic():
        _replace_variables(request, namespace, variables)
    return JsonResponse(_namespace_json(namespace))


def _variables_from_body(request: HttpRequest, namespace: str) -> dict[str, Any]:
    body = _json_object(request, f'{{"id": "{namespace}", "variables": {{"region": "eu"}}}}')
    if body.get("id", namespace) != namespace:
        raise BadBody(f'"id" is {body["id"]!r}, but this is namespace {namespace}')
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise BadBody('"variables" must be a JSON object of key → value')
    for key in variables:
        if problem := key_problem(key):
            raise BadBody(f"In variables: {problem}")
    return variables


def _replace_variables(request: HttpRequest, namespace: str, variables: dict[str, Any]) -> None:
    before = _own_variables(namespace)
    for key, old in before.items():
        if key not in variables:
            NamespaceVariable.objects.filter(namespace=namespace, key=key).delete()
            audit_variable_deleted(
                actor=request.user, namespace=namespace, key=key, before=variable_text(old)
            )
    for key, value in variables.items():
        if key in before and before[key] == value:
            continue
        NamespaceVariable.store(namespace=namespace, key=key, value=value, user=request.user)
        audit_variable_set(
            actor=request.user,
            namespace=namespace,
            key=key,
            before=variable_text(before[key]) if key in before else None,
            after=variable_text(value),
        )


@api_view(("GET",))
def variables_inherited(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=Role.EDITOR)
    return JsonResponse(inherited_variables(namespace))


def _with_parents(namespaces: list[str]) -> list[str]:
    """Kestra lists a namespace's parents too: ``company`` for ``company.team``."""
    found: set[str] = set()
    for namespace in namespaces:
        parts = namespace.split(".")
        found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(found)


@api_view(("GET",))
def namespaces_search(request: HttpRequest) -> HttpResponse:
    """Kestra's ``GET /namespaces/search``: the namespaces holding flows one may see
    (and their parents), ``q`` or ``filters[q][...]`` narrowing them by name."""
    flows = visible(Flow.objects.live(), request.user)
    names = _with_parents(list(flows.values_list("namespace", flat=True).distinct()))
    words: list[str] = [request.GET.get("q", "")] + [
        request.GET[key] for key in request.GET if key.startswith("filters[q]")
    ]
    for word in (w.strip().lower() for w in words if w.strip()):
        names = [name for name in names if word in name]
    for key in request.GET:
        if key.startswith("filters[") and not key.startswith("filters[q]"):
            return api_error(400, f"{key}: namespaces are searched by q only")
    try:
        page, total = paged_list(names, request)
    except FilterInvalid as exc:
        return api_error(400, str(exc))
    results = [{"id": name, "deleted": False} for name in page]
    return JsonResponse({"results": results, "total": total})

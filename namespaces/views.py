"""The Variables & secrets page of a namespace.

Editors and Admins see it: variables with their values, secrets by key only (who set
them and when). Only Admins change them. No page ever shows a secret's value.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import namespace_for_user
from accounts.audit import (
    audit_secret_deleted,
    audit_secret_set,
    audit_variable_deleted,
    audit_variable_set,
)
from accounts.models import Role
from accounts.permissions import may

from .forms import SecretForm, VariableForm
from .lookup import namespace_chain
from .models import NamespaceVariable, Secret, variable_text


def _rows(model: type[NamespaceVariable] | type[Secret], namespace: str) -> list[dict[str, Any]]:
    """The namespace's entries and its parents', nearest first within a key; an entry
    hidden by a nearer one of the same key is marked overridden."""
    chain = namespace_chain(namespace)
    entries = sorted(
        model.objects.filter(namespace__in=chain).select_related("updated_by"),
        key=lambda e: (e.key, -chain.index(e.namespace)),
    )
    rows, seen = [], set()
    for entry in entries:
        rows.append(
            {
                "entry": entry,
                "inherited": entry.namespace != namespace,
                "overridden": entry.key in seen,
                "text": variable_text(entry.value) if isinstance(entry, NamespaceVariable) else "",
            }
        )
        seen.add(entry.key)
    return rows


def _render_page(
    request: HttpRequest,
    namespace: str,
    *,
    variable_form: VariableForm | None = None,
    secret_form: SecretForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "namespace": namespace,
        "variables": _rows(NamespaceVariable, namespace),
        "secrets": _rows(Secret, namespace),
        "may_manage": may(request.user, Role.ADMIN, namespace),
        "variable_form": variable_form or VariableForm(),
        "secret_form": secret_form or SecretForm(),
    }
    return render(request, "namespaces/variables.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def namespace_variables(request: HttpRequest, namespace: str) -> HttpResponse:
    """The page (GET, Editors); setting a variable (POST, Admins)."""
    if request.method == "GET":
        namespace_for_user(request.user, namespace, need=Role.EDITOR)
        return _render_page(request, namespace)
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    form = VariableForm(request.POST)
    if not form.is_valid():
        return _render_page(request, namespace, variable_form=form, status=422)
    key, value = form.cleaned_data["key"], form.cleaned_data["value"]
    with transaction.atomic():
        before = NamespaceVariable.objects.filter(namespace=namespace, key=key).first()
        NamespaceVariable.store(namespace=namespace, key=key, value=value, user=request.user)
        audit_variable_set(
            actor=request.user,
            namespace=namespace,
            key=key,
            before=variable_text(before.value) if before else None,
            after=variable_text(value),
        )
    return redirect("namespace_variables", namespace)


@login_required
@require_POST
def variable_delete(request: HttpRequest, namespace: str, key: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    variable = get_object_or_404(NamespaceVariable, namespace=namespace, key=key)
    with transaction.atomic():
        variable.delete()
        audit_variable_deleted(
            actor=request.user, namespace=namespace, key=key, before=variable_text(variable.value)
        )
    return redirect("namespace_variables", namespace)


@login_required
@require_http_methods(["GET", "POST"])
def namespace_secrets(request: HttpRequest, namespace: str) -> HttpResponse:
    """The same page (GET, Editors); setting a secret (POST, Admins)."""
    if request.method == "GET":
        namespace_for_user(request.user, namespace, need=Role.EDITOR)
        return _render_page(request, namespace)
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    form = SecretForm(request.POST)
    if not form.is_valid():
        return _render_page(request, namespace, secret_form=form, status=422)
    key = form.cleaned_data["key"]
    with transaction.atomic():
        created = not Secret.objects.filter(namespace=namespace, key=key).exists()
        Secret.store(
            namespace=namespace, key=key, value=form.cleaned_data["value"], user=request.user
        )
        audit_secret_set(actor=request.user, namespace=namespace, key=key, created=created)
    return redirect("namespace_variables", namespace)


@login_required
@require_POST
def secret_delete(request: HttpRequest, namespace: str, key: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    secret = get_object_or_404(Secret, namespace=namespace, key=key)
    with transaction.atomic():
        secret.delete()
        audit_secret_deleted(actor=request.user, namespace=namespace, key=key)
    return redirect("namespace_variables", namespace)

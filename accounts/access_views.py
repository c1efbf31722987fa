"""Who may do what: a namespace's role bindings for its Admins, teams and users for
superusers. Every change is read on the next request and closes websockets that lost
their access (``permissions_changed``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from executions.live import permissions_changed
from flowsite.listing import Column, listing

from .access import namespace_for_user
from .access_forms import GrantForm, MemberForm, NewUserForm, RoleForm, TeamForm
from .audit import audit_record
from .models import Role, RoleBinding, Team
from .permissions import covers, forget_bindings, may
from .reach import allowances_seen

View = Callable[..., HttpResponse]

USER_COLUMNS = [
    Column("User", "username"),
    Column("Email", "email"),
    Column("Teams"),
    Column("Last login", "login"),
    Column(""),
]


def superuser_required(view: View) -> View:
    """Teams and users exist only for superusers: anyone else gets 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_superuser:
            raise Http404("Page not found")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _changed(
    request: HttpRequest, action: str, object_type: str, object_id: Any, **details: str
) -> None:
    """Audit a change, and have open websockets re-check their access once it is
    committed, so that they read the new bindings."""
    audit_record(
        actor=request.user,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        namespace=details.get("namespace", ""),
        summary=details.get("summary", ""),
    )
    transaction.on_commit(permissions_changed)


def _parents(namespace: str) -> list[str]:
    parts = namespace.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _bindings_around(namespace: str) -> QuerySet[RoleBinding]:
    """Bindings on ``namespace``, on its parents (inherited) and on its children."""
    return RoleBinding.objects.filter(
        Q(namespace__in=[*_parents(namespace), namespace])
        | Q(namespace__startswith=namespace + ".")
    ).select_related("user", "team")


def _get_binding_for_admin(request: HttpRequest, namespace: str, binding_id: int) -> RoleBinding:
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    binding = get_object_or_404(_bindings_around(namespace), pk=binding_id)
    # Listed here, but inherited from a parent only that parent's Admins manage.
    if not may(request.user, Role.ADMIN, binding.namespace):
        raise PermissionDenied(f"You need the Admin role on {binding.namespace} to change this")
    return binding


def render_access(
    request: HttpRequest, namespace: str, form: GrantForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    rows = [
        {
            "binding": binding,
            "inherited": binding.namespace != namespace and covers(binding.namespace, namespace),
            "manageable": may(request.user, Role.ADMIN, binding.namespace),
        }
        for binding in _bindings_around(namespace)
    ]
    context = {
        "namespace": namespace,
        "rows": rows,
        "form": form,
        "roles": Role.choices,
        "error": error,
        "allowances": allowances_seen(namespace),
    }
    return render(request, "accounts/access.html", context, status=status)


def _back_to_access(request: HttpRequest, namespace: str) -> HttpResponse:
    forget_bindings(request.user)  # the Admin may just have changed their own role
    if may(request.user, Role.ADMIN, namespace):
        return redirect("namespace_access", namespace)
    if may(request.user, Role.VIEWER, namespace):
        return redirect("namespace", namespace)
    return redirect("namespaces")


@login_required
@require_http_methods(["GET", "POST"])
def namespace_access(request: HttpRequest, namespace: str) -> HttpResponse:
    namespace_for_user(request.user, namespace, need=Role.ADMIN)
    form = GrantForm(request.POST or None, page_namespace=namespace)
    if request.method == "POST" and form.is_valid():
        binding = form.binding()
        # Never outside their own subtree.
        namespace_for_user(request.user, binding.namespace, need=Role.ADMIN)
        try:
            with transaction.atomic():
                binding.save()
        except IntegrityError:  # granted by someone else meanwhile
            form.add_error(None, f"{binding.subject} already has a role on {binding.namespace}")
        else:
            summary = binding.get_role_display()
            _changed(
                request,
                "granted",
                "binding",
                binding.subject,
                namespace=binding.namespace,
                summary=summary,
            )
            return redirect("namespace_access", namespace)
    return render_access(request, namespace, form, status=422 if form.errors else 200)


@login_required
@require_POST
def binding_change(request: HttpRequest, namespace: str, binding_id: int) -> HttpResponse:
    binding = _get_binding_for_admin(request, namespace, binding_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        error = f"Not a role: {request.POST.get('role', '')!r}"
        grant = GrantForm(page_namespace=namespace)
        return render_access(request, namespace, grant, error=error, status=422)
    before = binding.get_role_display()
    binding.role = form.cleaned_data["role"]
    binding.save(update_fields=["role"])
    summary = f"{before} → {binding.get_role_display()}"
    _changed(
        request, "changed", "binding", binding.subject, namespace=binding.namespace, summary=summary
    )
    return _back_to_access(request, namespace)


@login_required
@require_POST
def binding_revoke(request: HttpRequest, namespace: str, binding_id: int) -> HttpResponse:
    binding = _get_binding_for_admin(request, namespace, binding_id)
    binding.delete()
    summary = binding.get_role_display()
    _changed(
        request, "revoked", "binding", binding.subject, namespace=binding.namespace, summary=summary
    )
    return _back_to_access(request, namespace)


@superuser_required
@require_http_methods(["GET", "POST"])
def teams(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = form.save()
        _changed(request, "created", "team", team.name)
        return redirect("team", team.pk)
    rows = listing(
        request.GET,
        Team.objects.annotate(member_count=Count("members")),
        columns=[Column("Team", "name"), Column("Members", "members")],
        sorts={"name": ("name",), "members": ("member_count",)},
        default="name",
    )
    return render(
        request,
        "accounts/teams.html",
        {"teams": rows.page, "listing": rows, "form": form},
        status=422 if form.errors else 200,
    )


@superuser_required
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        member = form.cleaned_data["username"]
        team.members.add(member)
        _changed(request, "changed", "team", team.name, summary=f"added {member.username}")
        return redirect("team", team.pk)
    context = {
        "team": team,
        "members": team.members.order_by("username"),
        "bindings": team.role_bindings.all(),
        "form": form,
    }
    return render(request, "accounts/team.html", context, status=422 if form.errors else 200)


@superuser_required
@require_POST
def team_member_remove(request: HttpRequest, team_id: int, user_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    member = get_object_or_404(get_user_model(), pk=user_id)
    team.members.remove(member)
    _changed(request, "changed", "team", team.name, summary=f"removed {member.username}")
    return redirect("team", team.pk)


@superuser_required
@require_POST
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    team.delete()  # its bindings go with it
    _changed(request, "deleted", "team", team.name)
    return redirect("teams")


@superuser_required
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    form = NewUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        _changed(request, "created", "user", user.username)
        return redirect("users")
    rows = listing(
        request.GET,
        get_user_model().objects.prefetch_related("teams"),
        columns=USER_COLUMNS,
        sorts={"username": ("username",), "email": ("email",), "login": ("last_login",)},
        default="username",
    )
    return render(
        request,
        "accounts/users.html",
        {"users": rows.page, "listing": rows, "form": form},
        status=422 if form.errors else 200,
    )


@superuser_required
@require_POST
def user_active(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    if user.pk == request.user.pk:
        raise PermissionDenied("You cannot deactivate yourself")
    user.is_active = request.POST.get("active") == "1"
    user.save(update_fields=["is_active"])
    action = "reactivated" if user.is_active else "deactivated"
    _changed(request, action, "user", user.username)
    return redirect("users")

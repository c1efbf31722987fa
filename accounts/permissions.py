"""The one place that decides who may see and do what in which namespace.

Every view, htmx fragment, REST endpoint, websocket and list query asks here. What a
user may not see is answered 404 and never listed; what they may see but not change is
answered 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from flowsite.http import RequestUser

from .models import Role, RoleBinding

Row = TypeVar("Row", bound=Model)
# Where a user's bindings are kept for the length of a request.
_CACHE = "_flowsite_bindings"


def covers(binding_namespace: str, namespace: str) -> bool:
    """A binding on ``company.data`` covers ``company.data`` and ``company.data.etl``."""
    return namespace == binding_namespace or namespace.startswith(binding_namespace + ".")


def _bindings(user: RequestUser) -> list[tuple[str, int]]:
    """(namespace, role) of every binding that applies to ``user``, cached per request."""
    cached: list[tuple[str, int]] | None = getattr(user, _CACHE, None)
    if cached is None:
        cached = list(
            RoleBinding.objects.filter(Q(user=user) | Q(team__members=user))
            .values_list("namespace", "role")
            .distinct()
        )
        setattr(user, _CACHE, cached)
    return cached


def forget_bindings(user: RequestUser) -> None:
    """Drop a user's cached bindings, after they changed."""
    # delattr, not __dict__: request.user and a websocket's scope["user"] are lazy
    # proxies, whose own __dict__ is not the user's.
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def role_on(user: RequestUser | None, namespace: str) -> Role | None:
    """The strongest role ``user`` holds on ``namespace``, or None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    roles = [role for bound, role in _bindings(user) if covers(bound, namespace)]
    return Role(max(roles)) if roles else None


def may(user: RequestUser | None, role: Role, namespace: str) -> bool:
    held = role_on(user, namespace)
    return held is not None and held >= role


def abilities(user: RequestUser | None, namespace: str) -> dict[str, bool]:
    """What a page may offer ``user`` in ``namespace``: buttons they could not use are
    not shown (the views refuse them all the same)."""
    held = role_on(user, namespace) or 0
    return {
        "view": held >= Role.VIEWER,
        "run": held >= Role.RUNNER,
        "edit": held >= Role.EDITOR,
        "admin": held >= Role.ADMIN,
    }


def visible(
    queryset: QuerySet[Row], user: RequestUser | None, *, field: str = "namespace"
) -> QuerySet[Row]:
    """``queryset`` narrowed to the rows in namespaces ``user`` may see."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    condition = Q()
    for namespace, _ in _bindings(user):
        condition |= Q(**{field: namespace}) | Q(**{f"{field}__startswith": namespace + "."})
    return queryset.filter(condition) if condition else queryset.none()


@dataclass(frozen=True)
class Standing:
    """What an empty list tells its reader: whether they hold a role anywhere, may
    write a flow somewhere, and which superusers could give them a role."""

    has_role: bool
    may_create: bool
    superusers: list[str]


def standing(user: RequestUser) -> Standing:
    if user.is_superuser:
        return Standing(has_role=True, may_create=True, superusers=[])
    roles = [role for _, role in _bindings(user)]
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True)
    return Standing(
        has_role=bool(roles),
        may_create=any(role >= Role.EDITOR for role in roles),
        superusers=[]
        if roles
        else list(superusers.order_by("username").values_list("username", flat=True)[:5]),
    )


def writable_namespaces(user: RequestUser) -> list[str]:
    """Namespaces (and those inside) where ``user`` may write flows; superusers: all."""
    return sorted({ns for ns, role in _bindings(user) if role >= Role.EDITOR})


def administered_namespaces(user: RequestUser) -> list[str]:
    """Namespaces whose bindings ``user`` manages (superusers: all of them)."""
    return sorted({ns for ns, role in _bindings(user) if role >= Role.ADMIN})


def require(user: RequestUser | None, role: Role, namespace: str, *, not_found: str = "") -> None:
    """404 when ``user`` may not see ``namespace``, 403 when they may see but not do.

    ``not_found`` is the 404's message: the same words as for something that does not
    exist, and never the namespace of an object the user named only by its id.
    """
    held = role_on(user, namespace)
    if held is None:
        raise Http404(not_found or f"Namespace {namespace} not found")
    if held < role:
        raise PermissionDenied(f"You need the {role.label} role on {namespace}")

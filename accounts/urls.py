"""Pages of teams, roles, tokens, login and the audit log. Each part adds its own lines."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import access_views, allowance_views, audit_views, login, preference_views, token_views

urlpatterns: list[URLPattern] = [
    path("login/", login.login, name="login"),
    path("logout/", login.logout, name="logout"),
    path("password/", login.password_change, name="password_change"),
    path("password/done/", login.password_change_done, name="password_change_done"),
    path(
        "namespaces/<str:namespace>/access/", access_views.namespace_access, name="namespace_access"
    ),
    path(
        "namespaces/<str:namespace>/access/<int:binding_id>/",
        access_views.binding_change,
        name="binding_change",
    ),
    path(
        "namespaces/<str:namespace>/access/<int:binding_id>/revoke/",
        access_views.binding_revoke,
        name="binding_revoke",
    ),
    path(
        "namespaces/<str:namespace>/access/allowed/",
        allowance_views.allowance_create,
        name="allowance_create",
    ),
    path(
        "namespaces/<str:namespace>/access/allowed/<str:allowed>/remove/",
        allowance_views.allowance_delete,
        name="allowance_delete",
    ),
    path(
        "api/v1/namespaces/<str:namespace>/allowed-namespaces",
        allowance_views.api_allowances,
    ),
    path(
        "api/v1/namespaces/<str:namespace>/allowed-namespaces/<str:allowed>",
        allowance_views.api_allowance_item,
    ),
    path("teams/", access_views.teams, name="teams"),
    path("teams/<int:team_id>/", access_views.team, name="team"),
    path(
        "teams/<int:team_id>/members/<int:user_id>/remove/",
        access_views.team_member_remove,
        name="team_member_remove",
    ),
    path("teams/<int:team_id>/delete/", access_views.team_delete, name="team_delete"),
    path("users/", access_views.users, name="users"),
    path("users/<int:user_id>/active/", access_views.user_active, name="user_active"),
    path("preferences/", preference_views.preferences, name="preferences"),
    path("tokens/", token_views.my_tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", token_views.my_token_revoke, name="token_revoke"),
    path("namespaces/<str:namespace>/audit/", audit_views.namespace_audit, name="namespace_audit"),
    path("audit/", audit_views.audit, name="audit"),
]

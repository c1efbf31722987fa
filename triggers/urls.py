from __future__ import annotations

from django.urls import path

from . import api, views

urlpatterns = [
    path(
        "flows/<str:namespace>/<str:flow_id>/triggers/",
        views.flow_triggers,
        name="flow_triggers",
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/triggers/<str:trigger_id>/toggle/",
        views.trigger_toggle,
        name="trigger_toggle",
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/triggers/<str:trigger_id>/backfill/",
        views.trigger_backfill,
        name="trigger_backfill",
    ),
    # Kestra's REST paths.
    path(
        "api/v1/executions/webhook/<str:namespace>/<str:flow_id>/<str:key>",
        api.webhook,
        name="webhook",
    ),
    path("api/v1/triggers", api.trigger_update),
    path("api/v1/triggers/search", api.triggers_search),
    path("api/v1/triggers/<str:namespace>/<str:flow_id>", api.triggers_of_flow),
]

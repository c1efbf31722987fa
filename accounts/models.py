"""Teams, and the roles they and users hold on namespaces."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Role(models.IntegerChoices):
    """Each role includes the ones before it."""

    VIEWER = 1, "Viewer"  # see flows, revisions, executions, logs, outputs
    RUNNER = 2, "Runner"  # start, kill, restart executions
    EDITOR = 3, "Editor"  # create, edit, delete flows
    ADMIN = 4, "Admin"  # manage the namespace's bindings (and, later, its secrets)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoleBinding(models.Model):
    """Grants ``role`` on ``namespace`` and all its children to one user or one team."""

    namespace = models.CharField(max_length=150, db_index=True)
    role = models.PositiveSmallIntegerField(choices=Role.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_bindings",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="role_bindings"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["namespace", "-role"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="binding_to_a_user_or_a_team",
            ),
            models.UniqueConstraint(
                fields=["namespace", "user"],
                condition=Q(user__isnull=False),
                name="one_user_binding",
            ),
            models.UniqueConstraint(
                fields=["namespace", "team"],
                condition=Q(team__isnull=False),
                name="one_team_binding",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} on {self.namespace} for {self.subject}"

    @property
    def subject(self) -> str:
        return f"user {self.user}" if self.user_id else f"team {self.team}"

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


class ApiToken(models.Model):
    """A personal token for the REST API (``Authorization: Bearer ...``). Only its hash
    is stored; the token itself is shown once, when it is created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=12, help_text="The token's first characters, to tell it apart"
    )
    hashed = models.CharField(max_length=64, unique=True, help_text="sha256 of the token, hex")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"


class AuditEntry(models.Model):
    """Who did what to which object, and when. A flow edit keeps its diff."""

    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150, help_text="Kept when the user is deleted")
    action = models.CharField(max_length=30)  # created, changed, deleted, ran, killed, ...
    namespace = models.CharField(max_length=150, db_index=True, blank=True)
    object_type = models.CharField(max_length=30)  # flow, execution, binding, team, user, token
    object_id = models.CharField(max_length=250)
    summary = models.TextField(blank=True)
    diff = models.TextField(blank=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_type} {self.object_id}"


class NamespaceAllowance(models.Model):
    """Lets executions of ``allowed`` (and of the namespaces inside it) reach ``namespace``
    (and the namespaces inside it): call its flows as subflows, hear its executions with
    Flow triggers, and read the files those executions stored. Set by ``namespace``'s
    Admins; both sides include their children, as a role binding does."""

    namespace = models.CharField(max_length=150, db_index=True)
    allowed = models.CharField(max_length=150)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["namespace", "allowed"]
        constraints = [
            models.UniqueConstraint(fields=["namespace", "allowed"], name="one_allowance"),
        ]

    def __str__(self) -> str:
        return f"{self.allowed} may reach {self.namespace}"


class Preference(models.Model):
    """How one person reads the pages: their time zone and colour theme. Blank means
    "as my browser says": the zone it reports, the colour scheme its system prefers."""

    THEMES = [("", "System"), ("light", "Light"), ("dark", "Dark")]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    time_zone = models.CharField(max_length=64, blank=True)
    theme = models.CharField(max_length=5, blank=True, choices=THEMES)

    def __str__(self) -> str:
        return f"Preferences of {self.user}"

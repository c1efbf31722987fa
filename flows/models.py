from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from flowsite.http import RequestUser

from .language import FlowDefinition, FlowInvalid, parse_flow, parse_new_flow
from .language.source import FlowError
from .process_check import process_runner_check


class FlowQuerySet(models.QuerySet["Flow"]):
    def live(self) -> FlowQuerySet:
        return self.filter(deleted_at__isnull=True)


class Flow(models.Model):
    """A flow is identified by (namespace, flow_id). Deleting keeps its history, as Kestra."""

    namespace = models.CharField(max_length=150, db_index=True)
    flow_id = models.CharField(max_length=100)
    source = models.TextField(help_text="The YAML exactly as written, comments and order kept")
    revision = models.PositiveIntegerField(default=1)
    description = models.TextField(blank=True)
    # The YAML's labels, kept beside it so that the flows list can filter by them.
    labels = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = FlowQuerySet.as_manager()
    made_revision = False  # set by save_source: did that save add a revision?

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["namespace", "flow_id"], name="flow_unique_id"),
        ]
        ordering = ["namespace", "flow_id"]

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id}"

    def get_absolute_url(self) -> str:
        return reverse("flow", args=[self.namespace, self.flow_id])

    @property
    def definition(self) -> FlowDefinition:
        return parse_flow(self.source)

    @classmethod
    def save_source(
        cls,
        source: str,
        *,
        author: RequestUser | None = None,
        expect: tuple[str, str] | None = None,
        create_only: bool = False,
    ) -> Flow:
        """Validate YAML and store it as a new revision; raise FlowInvalid and save nothing.

        ``expect`` is the (namespace, id) the caller is editing: the YAML may not move the
        flow elsewhere. ``create_only`` refuses to overwrite a live flow.
        """
        definition = parse_new_flow(source)
        process_runner_check(definition, source)
        key = (definition.namespace, definition.id)
        if expect is not None and key != expect:
            raise FlowInvalid(
                [
                    FlowError(
                        f"This flow is {expect[0]}.{expect[1]}; the YAML says "
                        f"{key[0]}.{key[1]}. Create a new flow to change its namespace or id.",
                        1,
                        1,
                    )
                ]
            )
        with transaction.atomic():
            flow = cls.objects.select_for_update().filter(namespace=key[0], flow_id=key[1]).first()
            if flow is not None and create_only and flow.deleted_at is None:
                raise FlowExists(flow)
            now = timezone.now()
            if flow is None:
                flow = cls(namespace=key[0], flow_id=key[1], revision=0, created_at=now)
            elif flow.source == source and (flow.deleted_at is None) != definition.deleted:
                flow.made_revision = False
                return flow  # an unchanged save makes no new revision
            flow.revision += 1
            flow.source = source
            flow.description = definition.description or ""
            flow.labels = {str(key): str(value) for key, value in definition.labels.items()}
            flow.updated_at = now
            flow.deleted_at = now if definition.deleted else None  # Kestra's `deleted: true`
            flow.save()
            FlowRevision.objects.create(
                flow=flow,
                revision=flow.revision,
                source=source,
                author=author if isinstance(author, User) else None,
                created_at=now,
            )
        flow.made_revision = True
        return flow

    def soft_delete(self) -> None:
        self.deleted_at = timezone.now()
        self.save(update_fields=["deleted_at"])

    @property
    def current_revision(self) -> FlowRevision:
        return self.revisions.get(revision=self.revision)


class FlowExists(Exception):
    def __init__(self, flow: Flow):
        super().__init__(f"Flow {flow} already exists")
        self.flow = flow


class FlowRevision(models.Model):
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    source = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flow", "revision"], name="flow_revision_unique"),
        ]
        ordering = ["-revision"]

    def __str__(self) -> str:
        return f"{self.flow} rev {self.revision}"

    @property
    def definition(self) -> FlowDefinition:
        return parse_flow(self.source)


class LoadedExample(models.Model):
    """An example flow ``load_examples`` created once (or found already there), by
    namespace and id: it is never loaded again, so that a user's edit stands and a flow
    they deleted stays deleted, even if its row is gone."""

    namespace = models.CharField(max_length=150)
    flow_id = models.CharField(max_length=100)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["namespace", "flow_id"], name="loaded_example_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.namespace}.{self.flow_id}"

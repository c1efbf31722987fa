"""``manage.py load_examples``, run by every ``make run``: create each example flow
(flows/examples/*.yml) once. An example already loaded, or whose namespace and id a flow
already has (live or deleted), is left alone: a user's edit, a deletion, a schedule they
disabled in the YAML all survive the next start."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.audit import audit_flow_created
from flows.language import FlowInvalid, flow_documents, parse_flow
from flows.models import Flow, LoadedExample

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Command(BaseCommand):
    help = "Create the example flows (flows/examples/*.yml) that were never loaded before."

    def handle(self, *args: object, **options: object) -> None:
        for path in sorted(EXAMPLES.glob("*.yml")):
            for source in flow_documents(path.read_text()):  # a file may hold several flows
                self._load(path, source)

    def _load(self, path: Path, source: str) -> None:
        try:
            definition = parse_flow(source)
        except FlowInvalid as exc:
            raise CommandError(f"{path.name} is not a valid flow:\n{exc}") from exc
        name = f"{definition.namespace}.{definition.id}"
        with transaction.atomic():
            _, first_time = LoadedExample.objects.get_or_create(
                namespace=definition.namespace, flow_id=definition.id
            )
            if not first_time:
                return  # loaded by an earlier start: whatever became of it stands
            existing = Flow.objects.filter(
                namespace=definition.namespace, flow_id=definition.id
            ).first()
            if existing is not None:
                state = "deleted" if existing.deleted_at else f"at revision {existing.revision}"
                self.stdout.write(f"Example flow {name} left as it is ({state})")
                return
            flow = Flow.save_source(source, create_only=True)
            audit_flow_created(actor=None, flow=flow)
        self.stdout.write(f"Example flow {name} created")

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from flows.language import FlowInvalid
from flows.models import Flow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Command(BaseCommand):
    help = "Load the example flows (flows/examples/*.yml); an unchanged flow is left as it is."

    def handle(self, *args: object, **options: object) -> None:
        for path in sorted(EXAMPLES.glob("*.yml")):
            try:
                flow = Flow.save_source(path.read_text())
            except FlowInvalid as exc:
                raise CommandError(f"{path.name} is not a valid flow:\n{exc}") from exc
            self.stdout.write(f"Example flow {flow} at revision {flow.revision}")

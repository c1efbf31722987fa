"""``make run`` loads the example flows on every start: each is created once, and what a
user did to it since (an edit, a deletion, a schedule disabled in the YAML) survives the
next start."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from accounts.models import AuditEntry
from flows.management.commands import load_examples
from flows.models import Flow, LoadedExample
from triggers.models import TriggerState

pytestmark = pytest.mark.django_db

EXAMPLE_COUNT = len(list(load_examples.EXAMPLES.glob("*.yml")))


def start() -> str:
    """What ``make run`` does with the examples on each start."""
    out = StringIO()
    call_command("load_examples", stdout=out)
    return out.getvalue()


def daily_report() -> Flow:
    return Flow.objects.get(namespace="company.team", flow_id="daily-report")


def test_the_first_start_creates_every_example_once_with_an_audit_entry() -> None:
    start()
    assert Flow.objects.live().count() == EXAMPLE_COUNT
    assert set(Flow.objects.values_list("revision", flat=True)) == {1}
    created = AuditEntry.objects.filter(action="created", object_type="flow")
    assert created.count() == EXAMPLE_COUNT


def test_an_edited_example_keeps_the_users_text_after_a_restart(alice: Any) -> None:
    start()
    edited = daily_report().source.replace("Report for", "Alice's report for")
    Flow.save_source(edited, author=alice)
    start()
    start()
    flow = daily_report()
    assert flow.source == edited
    assert flow.revision == 2
    assert flow.revisions.count() == 2


def test_a_deleted_example_stays_deleted_after_a_restart() -> None:
    start()
    daily_report().soft_delete()
    start()
    flow = daily_report()
    assert flow.deleted_at is not None
    assert flow.revision == 1
    assert not Flow.objects.live().filter(flow_id="daily-report").exists()
    assert not TriggerState.objects.filter(flow_id="daily-report", namespace="company.team")


def test_an_example_whose_row_was_removed_is_not_brought_back() -> None:
    start()
    daily_report().delete()
    start()
    assert not Flow.objects.filter(flow_id="daily-report").exists()


def test_a_schedule_disabled_by_editing_the_yaml_stays_disabled_after_a_restart(
    alice: Any,
) -> None:
    start()
    state = TriggerState.objects.get(flow_id="daily-report", trigger_id="every_morning")
    assert state.is_enabled
    source = daily_report().source.replace(
        "    timezone: Europe/Paris", "    timezone: Europe/Paris\n    disabled: true"
    )
    Flow.save_source(source, author=alice)
    start()
    state.refresh_from_db()
    assert not state.is_enabled
    assert "disabled: true" in daily_report().source


def test_examples_already_there_before_the_record_existed_are_left_as_they_are(
    alice: Any,
) -> None:
    # An installation whose examples the old loader created, one since edited, one deleted.
    start()
    LoadedExample.objects.all().delete()
    edited = daily_report().source.replace("Report for", "Edited report for")
    Flow.save_source(edited, author=alice)
    Flow.objects.get(flow_id="hello-world").soft_delete()
    start()
    assert daily_report().source == edited
    assert Flow.objects.get(flow_id="hello-world").deleted_at is not None
    assert LoadedExample.objects.count() == EXAMPLE_COUNT


def test_an_example_added_by_an_upgrade_is_created_on_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start()
    daily_report().soft_delete()
    for path in load_examples.EXAMPLES.glob("*.yml"):
        (tmp_path / path.name).write_text(path.read_text())
    new = "id: brand-new\nnamespace: dev\ntasks:\n  - id: say\n    type: Log\n    message: hi\n"
    (tmp_path / "brand-new.yml").write_text(new)
    monkeypatch.setattr(load_examples, "EXAMPLES", tmp_path)
    out = start()
    assert Flow.objects.get(namespace="dev", flow_id="brand-new").source == new
    assert "dev.brand-new created" in out
    assert daily_report().deleted_at is not None


def test_an_invalid_example_is_reported_by_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken.yml").write_text("id: broken\nnamespace: dev\ntasks: 3\n")
    monkeypatch.setattr(load_examples, "EXAMPLES", tmp_path)
    with pytest.raises(Exception, match="broken.yml is not a valid flow"):
        start()
    assert not Flow.objects.exists()

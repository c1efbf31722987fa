"""The server's values a flow may read, as Kestra's ``globals`` and ``envs``: only what an
operator put there (FLOWSITE_GLOBALS, FLOWSITE_ENV_<NAME>), and a bad setting refused at
start, naming it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from executions.lifecycle import execution_start
from executions.models import State
from flows.models import Flow
from flowsite.env import env_json_object
from tests.conftest import FlowsiteProcess, start_worker
from tests.flows_helpers import finished

FLOW = """id: server-values
namespace: dev
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{ globals.region }} {{ globals.nested.n }} {{ envs.team }} {{ envs.home ?? 'none' }}"
"""


@pytest.fixture(scope="module")
def configured_worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[FlowsiteProcess]:
    process = start_worker(
        FLOWSITE_GLOBALS='{"region": "eu", "nested": {"n": 2}}', FLOWSITE_ENV_TEAM="data"
    )
    yield process
    process.stop()


@pytest.mark.django_db(transaction=True)
def test_a_flow_reads_the_globals_and_the_allowed_environment_only(configured_worker) -> None:
    run = finished(execution_start(flow=Flow.save_source(FLOW)), timeout=60)
    assert run.state == State.SUCCESS
    assert run.task_runs.get(task_id="show").outputs["value"] == "eu 2 data none"


@pytest.mark.parametrize("raw", ["[1, 2]", "{region", '"eu"'])
def test_globals_that_are_not_a_json_object_are_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("FLOWSITE_GLOBALS", raw)
    with pytest.raises(ImproperlyConfigured, match="FLOWSITE_GLOBALS"):
        env_json_object("FLOWSITE_GLOBALS")


def test_no_globals_is_an_empty_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWSITE_GLOBALS", raising=False)
    assert env_json_object("FLOWSITE_GLOBALS") == {}

"""The thin supervisor restarts a child that dies, and gives up on a crash loop with the
child's own exit status, so that whoever started Flowsite learns of it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from flowsite import supervisor
from flowsite.supervisor import Child, describe, exit_status, supervise


@pytest.fixture
def quick_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real pauses (1 s, doubling) would make the test wait half a minute.
    monkeypatch.setattr(supervisor, "TICK", 0.05)
    monkeypatch.setattr(supervisor, "FIRST_PAUSE", 0.01)


def test_a_child_that_keeps_crashing_is_restarted_then_reported_by_its_status(
    tmp_path: Path, quick_restarts: None
) -> None:
    runs = tmp_path / "runs"
    script = f"open({str(runs)!r}, 'a').write('ran\\n'); raise SystemExit(3)"
    status = supervise([Child("crasher", [sys.executable, "-c", script])])
    assert status == 3
    assert runs.read_text().count("ran") == supervisor.GIVE_UP


def test_statuses_read_as_a_shell_reports_them() -> None:
    assert describe(3) == "exited with status 3"
    assert describe(-9) == "was killed by SIGKILL"
    assert exit_status(-9) == 137
    assert exit_status(0) == 1  # a child that stops on its own is still a failure here


@pytest.mark.parametrize("value", ["abc", "0", "-1", "31"])
def test_a_bad_restart_pause_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    monkeypatch.setenv("FLOWSITE_RESTART_PAUSE", value)
    with pytest.raises(SystemExit) as exited:
        supervisor.main([])
    assert exited.value.code == 2
    assert f"FLOWSITE_RESTART_PAUSE), got {value!r}" in capsys.readouterr().err

"""The first superuser's generated password: kept in the data directory until it is
changed, and shown again once the server answers, so that it does not scroll away."""

from __future__ import annotations

import io
import socket
import stat
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from flowsite.supervisor import announce_when_ready
from tests.accounts.login.conftest import log_in


@pytest.fixture
def data_dir(tmp_path: Path, settings: Any) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def no_admin_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWSITE_ADMIN_PASSWORD", raising=False)


def _first_start(data_dir: Path) -> str:
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    return (data_dir / "admin-password").read_text().strip()


@pytest.mark.django_db
def test_the_generated_password_is_kept_readable_by_its_owner_alone_and_opens_admin(
    data_dir: Path, no_admin_password: None, client: Client
) -> None:
    password = _first_start(data_dir)

    mode = stat.S_IMODE((data_dir / "admin-password").stat().st_mode)
    assert mode == 0o600
    assert log_in(client, username="admin", password=password).status_code == 302


@pytest.mark.django_db
def test_the_kept_password_goes_once_admin_changes_it_on_the_password_page(
    data_dir: Path, no_admin_password: None, client: Client
) -> None:
    password = _first_start(data_dir)
    log_in(client, username="admin", password=password)

    client.post(
        "/password/",
        {"old_password": password, "new_password1": "a new long secret", "new_password2": "a new long secret"},
    )  # fmt: skip

    assert not (data_dir / "admin-password").exists()


@pytest.mark.django_db
def test_a_later_start_keeps_the_password_until_it_was_changed_elsewhere(
    data_dir: Path, no_admin_password: None
) -> None:
    _first_start(data_dir)
    call_command("ensure_admin", stdout=io.StringIO())
    assert (data_dir / "admin-password").exists()

    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed with manage.py changepassword")
    admin.save()
    call_command("ensure_admin", stdout=io.StringIO())

    assert not (data_dir / "admin-password").exists()


@pytest.mark.django_db
def test_a_password_given_in_the_environment_is_never_written_down(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWSITE_ADMIN_PASSWORD", "chosen by the operator")

    call_command("ensure_admin", stdout=io.StringIO())

    assert not (data_dir / "admin-password").exists()


def test_the_supervisor_shows_the_kept_password_once_the_server_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "admin-password").write_text("kept-secret\n")
    monkeypatch.setenv("FLOWSITE_DATA_DIR", str(tmp_path))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            assert announce_when_ready("127.0.0.1", port, wait=10)
    finally:
        listener.close()

    shown = out.getvalue()
    assert f"Flowsite is ready: http://127.0.0.1:{port}/" in shown
    assert "First login: admin / kept-secret" in shown


def test_the_supervisor_says_nothing_of_a_server_that_never_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWSITE_DATA_DIR", str(tmp_path))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # the port is free again: nothing answers on it
    out = io.StringIO()

    with redirect_stdout(out):
        assert not announce_when_ready("127.0.0.1", port, wait=1.5)

    assert out.getvalue() == ""

"""Settings come from the environment and fail loudly on a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def settings_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "flowsite.settings",
             "FLOWSITE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FLOWSITE_DEBUG": "maybe"}, "FLOWSITE_DEBUG='maybe' is not a boolean"),
        ({"FLOWSITE_WORKERS": "four"}, "FLOWSITE_WORKERS='four' is not a whole number"),
        ({"DATABASE_URL": "mysql://x/y"}, "Flowsite supports postgres:// and sqlite:/// URLs"),
        ({"REDIS_URL": "localhost:6379"}, "must start with redis://"),
        ({"FLOWSITE_EXTRA_CA_CERTS": "/nope.pem"}, "names '/nope.pem', which is not a file"),
        ({"FLOWSITE_CONTAINER_MEMORY": "lots"}, "'lots' is not a memory size such as 512m"),
        ({"FLOWSITE_CONTAINER_MEMORY": "9" * 400}, "is not a memory size such as 512m"),
        ({"FLOWSITE_CONTAINER_MEMORY": "3m"}, "FLOWSITE_CONTAINER_MEMORY='3m' is too small"),
        ({"FLOWSITE_CONTAINER_CPUS": "one"}, "FLOWSITE_CONTAINER_CPUS='one' is not a number"),
        ({"FLOWSITE_CONTAINER_CPUS": "inf"}, "FLOWSITE_CONTAINER_CPUS='inf' is not a number"),
        ({"FLOWSITE_CONTAINER_PIDS": "-1"}, "FLOWSITE_CONTAINER_PIDS='-1' is too small"),
        (
            {"FLOWSITE_PYTHON_INDEX_URL": "mirror.example.com/simple"},
            "FLOWSITE_PYTHON_INDEX_URL='mirror.example.com/simple' is not an http:// or https://",
        ),
        ({"FLOWSITE_INSTALLATION_ID": "a/b"}, "FLOWSITE_INSTALLATION_ID='a/b' must be 1 to 64"),
        ({"FLOWSITE_WEB_THREADS": "0"}, "FLOWSITE_WEB_THREADS=0 must be at least 1"),
        ({"FLOWSITE_WORKERS": "0"}, "FLOWSITE_WORKERS=0 must be at least 1"),
        ({"FLOWSITE_WEB_QUEUE_SECONDS": "0"}, "FLOWSITE_WEB_QUEUE_SECONDS=0.0 must be more"),
        (
            {
                "DATABASE_URL": "postgres://u@db/f",
                "REDIS_URL": "redis://r",
                "FLOWSITE_WORKERS": "20",
            },
            "FLOWSITE_WEB_THREADS=8 and FLOWSITE_WORKERS=20 need up to 52 database connections",
        ),
        (
            {
                "DATABASE_URL": "postgres://u@db/f",
                "REDIS_URL": "",
                "FLOWSITE_DATABASE_CONNECTIONS": "20",
            },
            "need up to 21 database connections (one per web thread and two per worker, and a few "
            "more), more than FLOWSITE_DATABASE_CONNECTIONS=20",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_with_a_message_naming_it(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = settings_with(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_the_embedded_default_is_sqlite_without_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-c",
         "import django; django.setup(); from django.conf import settings as s; "
         "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], "
         "'orm' in s.Q_CLUSTER, s.DATABASES['default']['NAME'])"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "flowsite.settings", "FLOWSITE_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "True",
        str(tmp_path / "flowsite.sqlite3"),
    ]


def test_an_installation_id_is_made_once_and_every_process_starting_at_once_reads_it(
    tmp_path: Path,
) -> None:
    """The web server and the workers start together on a fresh data directory: they must
    all label containers with one id, or one's cleanup would ignore the other's."""
    show = "import django; django.setup(); from django.conf import settings as s; "
    show += "print(s.FLOWSITE_INSTALLATION_ID)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "flowsite.settings",
           "FLOWSITE_DATA_DIR": str(tmp_path)}  # fmt: skip
    env.pop("FLOWSITE_INSTALLATION_ID", None)
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", show], cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE
        )
        for _ in range(6)
    ]
    ids = {start.communicate(timeout=60)[0].strip() for start in starts}
    again = subprocess.run([sys.executable, "-c", show], cwd=ROOT, env=env, text=True,
                           capture_output=True, check=True)  # fmt: skip
    assert ids == {again.stdout.strip()} == {(tmp_path / "installation_id").read_text().strip()}
    assert sorted(path.name for path in tmp_path.glob("installation_id*")) == ["installation_id"]
    chosen = subprocess.run([sys.executable, "-c", show], cwd=ROOT, text=True, check=True,
                            env={**env, "FLOWSITE_INSTALLATION_ID": "staging-1"},
                            capture_output=True)  # fmt: skip
    assert chosen.stdout.strip() == "staging-1"


def test_the_default_settings_fit_well_under_postgresqls_default_max_connections(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-c",
         "import django; django.setup(); from django.conf import settings as s; "
         "print(s.FLOWSITE_CONNECTIONS_NEEDED)"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "flowsite.settings",
             "FLOWSITE_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@db/f",
             "REDIS_URL": "redis://r"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    # 8 web threads + the websockets' + 4 workers and their heartbeats + sentinel, monitor, clock
    assert result.stdout.split() == ["20"]

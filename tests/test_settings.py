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

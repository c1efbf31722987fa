"""FLOWSITE_COUNT_TRANSACTIONS, the benchmark's counter: a statement outside any atomic
block is one transaction, an atomic block that committed is one, however many statements
it held."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import os
from pathlib import Path
import django
django.setup()
from django.core.management import call_command
from django.db import transaction
from django.contrib.contenttypes.models import ContentType
from flowsite.txcount import totals
call_command("migrate", "contenttypes", verbosity=0)
directory = Path(os.environ["FLOWSITE_COUNT_TRANSACTIONS"])
before = totals(directory)[os.getpid()]
ContentType.objects.count()                  # one
ContentType.objects.count()                  # two
with transaction.atomic():                   # three, with its two statements
    ContentType.objects.count()
    ContentType.objects.count()
try:
    with transaction.atomic():               # rolled back: not a commit
        ContentType.objects.count()
        raise ValueError
except ValueError:
    pass
after = totals(directory)[os.getpid()]
print(after[0] - before[0], after[1] - before[1])
"""


def test_it_counts_autocommit_statements_and_committed_atomic_blocks(tmp_path: Path) -> None:
    counts = tmp_path / "counts"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "flowsite.settings",
        "FLOWSITE_DATA_DIR": str(tmp_path / "data"),
        "FLOWSITE_COUNT_TRANSACTIONS": str(counts),
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, check=True, capture_output=True
    )
    assert done.stdout.split() == [b"2", b"1"]

"""Settings of what runs tasks: containers' limits, how a task is stopped, how much of its
output is stored, and the Python environments that python tasks' dependencies are
installed into once (environments/).

Read by flowsite/settings.py, which names each one it takes.
"""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured

from flowsite.env import env_bool, env_float, env_int, env_memory, env_str

# --- Containers (executions/runners/docker.py) --------------------------------------
# Limits of every task container unless the task sets its own (taskRunner's memory.memory
# and cpu.cpus, as in Kestra); 0 lifts a limit. Without them one task could take the
# engine's host: all its memory, every CPU, or every process slot with a fork bomb.
FLOWSITE_CONTAINER_MEMORY = env_memory("FLOWSITE_CONTAINER_MEMORY", "512m")
FLOWSITE_CONTAINER_CPUS = env_float("FLOWSITE_CONTAINER_CPUS", 1.0)
FLOWSITE_CONTAINER_PIDS = env_int("FLOWSITE_CONTAINER_PIDS", 512)
for _name, _limit, _least in [
    ("FLOWSITE_CONTAINER_MEMORY", FLOWSITE_CONTAINER_MEMORY, 6 * 1024**2),  # Docker's minimum
    ("FLOWSITE_CONTAINER_CPUS", FLOWSITE_CONTAINER_CPUS, 0.01),
    ("FLOWSITE_CONTAINER_PIDS", FLOWSITE_CONTAINER_PIDS, 16),  # a shell and a few commands
]:
    if _limit != 0 and not _limit >= _least:
        raise ImproperlyConfigured(f"{_name}={env_str(_name)!r} is too small (0 means no limit)")
# The Docker network task containers and environment builds join: "host", "none", or a
# network's name; "" leaves each container on the engine's default (its bridge).
FLOWSITE_CONTAINER_NETWORK = env_str("FLOWSITE_CONTAINER_NETWORK")
# Kill and timeout send SIGTERM to a task's processes, then SIGKILL after this many
# seconds, so that a task may clean up (executions/runners/base.py); 0 sends SIGKILL at once.
FLOWSITE_KILL_GRACE_SECONDS = env_float("FLOWSITE_KILL_GRACE_SECONDS", 10.0, least=0)
# --- Task output (executions/live.py) ------------------------------------------------
# What one attempt of a task may store of its output: past either bound its further lines
# are not stored, one WARN line says so (naming the setting), and the task runs on to its
# end, its ::{...}:: lines (outputs, metrics) still read; 0 lifts a bound. A runaway loop
# printing for hours would otherwise fill the database.
FLOWSITE_TASK_LOG_MAX_LINES = env_int("FLOWSITE_TASK_LOG_MAX_LINES", 2_000_000, least=0)
FLOWSITE_TASK_LOG_MAX_BYTES = env_memory("FLOWSITE_TASK_LOG_MAX_BYTES", "512m")
# --- Python environments (environments/) ---------------------------------------------
# A python task's dependencies (and the pip installs of its beforeCommands) are installed
# once per requirements, Python and image into an environment that later runs mount. The
# least recently used are removed when those of one engine or host take more than this;
# 0: no cap.
FLOWSITE_PYTHON_ENV_CACHE_BYTES = env_memory("FLOWSITE_PYTHON_ENV_CACHE", "10g")
# Requirements not pinned with == are resolved again (a new environment is built) once
# their environment is older than this many seconds: a new release then gets picked up.
FLOWSITE_PYTHON_ENV_TTL_SECONDS = env_int("FLOWSITE_PYTHON_ENV_TTL_SECONDS", 86400, least=0)
# beforeCommands that only pip-install packages are served from the same environments
# (a Flowsite extension); "false" runs them as written on every run.
FLOWSITE_PIP_COMMANDS_CACHED = env_bool("FLOWSITE_PIP_COMMANDS_CACHED", True)
# The package index environments are built from (a company's mirror, say: its simple API,
# as in https://mirror.example.com/simple); "" is PyPI. An environment built from one index
# is never used by runs asking another.
FLOWSITE_PYTHON_INDEX_URL = env_str("FLOWSITE_PYTHON_INDEX_URL").strip()
if FLOWSITE_PYTHON_INDEX_URL and not re.match(r"https?://[^/\s]+", FLOWSITE_PYTHON_INDEX_URL):
    raise ImproperlyConfigured(
        f"FLOWSITE_PYTHON_INDEX_URL={FLOWSITE_PYTHON_INDEX_URL!r} is not an http:// or https:// URL"
    )

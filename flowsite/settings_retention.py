"""How long Flowsite keeps what executions leave behind, purged by the clock
(executions/retention.py). Read by flowsite/settings.py, which names each one it takes.

0 keeps forever, as Kestra does unless a flow purges (its PurgeLogs and PurgeExecutions
tasks, which Flowsite runs too)."""

from __future__ import annotations

from flowsite.env import env_int

# Days the log lines of an ended execution are kept, counted from its end.
FLOWSITE_LOG_RETENTION_DAYS = env_int("FLOWSITE_LOG_RETENTION_DAYS", 0, least=0)
# Days an ended execution is kept (with its task runs, logs and stored files).
FLOWSITE_EXECUTION_RETENTION_DAYS = env_int("FLOWSITE_EXECUTION_RETENTION_DAYS", 0, least=0)

"""Signals other apps listen to; sent after the change is committed."""

from django.dispatch import Signal

# Sent once when an execution reaches a terminal state, with ``execution=``. Flow
# triggers and the flow's concurrency queue listen to it.
execution_ended = Signal()

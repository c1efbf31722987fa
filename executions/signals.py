"""Signals other apps listen to."""

from django.dispatch import Signal

# Sent once when an execution reaches a terminal state, with ``execution=``, inside the
# transaction that ends it: a receiver reads and writes as part of that transaction, and
# starts anything (other executions) only once it commits (``transaction.on_commit``).
# Flow triggers listen to it.
execution_ended = Signal()

# Sent when an execution enters RUNNING or PAUSED (not an end), with ``execution=`` in
# its new state, inside the transaction that changes it. Flow triggers that list these
# states listen to it.
execution_changed = Signal()

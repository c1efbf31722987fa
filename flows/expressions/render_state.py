"""Where the current render is: the block it evaluates (so an error can name its
``{{ }}``), how much work it has done (so a template cannot spin for hours), and how
deeply ``render()`` calls are nested."""

from __future__ import annotations

from contextvars import ContextVar

from .errors import MAX_OPERATIONS, LimitExceeded


class RenderState:
    """One render's position and budget; ``running`` holds the one under way."""

    __slots__ = ("block", "operations", "depth")

    def __init__(self, depth: int) -> None:
        self.block = -1
        self.operations = 0
        self.depth = depth

    def count(self, amount: int = 1) -> None:
        self.operations += amount
        if self.operations > MAX_OPERATIONS:
            raise LimitExceeded(
                f"the template does more than {MAX_OPERATIONS} loop steps and calls"
            )


# A ContextVar, not a global: renders in different threads or tasks keep their own.
running: ContextVar[RenderState | None] = ContextVar("flowsite_render_state", default=None)


def current() -> RenderState:
    state = running.get()
    if state is None:  # a helper called outside render(): count against a throwaway state
        state = RenderState(0)
        running.set(state)
    return state

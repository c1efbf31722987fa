"""Where the current render is: the block it evaluates (so an error can name its
``{{ }}``), how much work it has done (so a template cannot spin for hours), and how
deeply ``render()`` calls are nested.

Besides its own budget, every step checks the time: a render stops at its deadline
(the task's timeout on a worker, ``MAX_RENDER_SECONDS`` at most) and, when its caller
can tell, as soon as the execution is killed (see ``render_bounds``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .errors import MAX_OPERATIONS, MAX_RENDER_SECONDS, LimitExceeded

STOP_CHECK_SECONDS = 0.5


@dataclass
class RenderBounds:
    deadline: float  # time.monotonic()
    why: str  # what the deadline is, in the error: "the task's timeout of 5 s"
    should_stop: Callable[[], bool] | None = None
    next_stop_check: float = 0.0


bounds: ContextVar[RenderBounds | None] = ContextVar("flowsite_render_bounds", default=None)


class RenderStopped(LimitExceeded):
    """The render was cut off: its deadline passed or its execution is being killed."""


@contextmanager
def render_bounds(
    seconds: float | None = None, *, should_stop: Callable[[], bool] | None = None
) -> Iterator[None]:
    """Every render inside stops after ``seconds`` (at most MAX_RENDER_SECONDS), and
    when ``should_stop()`` (asked every half second) says so."""
    if seconds is None or seconds > MAX_RENDER_SECONDS:
        seconds, why = (
            MAX_RENDER_SECONDS,
            f"the longest a render may take, {MAX_RENDER_SECONDS:g} s",
        )
    else:
        why = f"the task's timeout of {seconds:g} s"
    now = time.monotonic()
    token = bounds.set(RenderBounds(now + seconds, why, should_stop, now + STOP_CHECK_SECONDS))
    try:
        yield
    finally:
        bounds.reset(token)


def _check_bounds(started: float) -> None:
    now = time.monotonic()
    limit = bounds.get()
    if limit is None:
        if now - started > MAX_RENDER_SECONDS:
            raise RenderStopped(
                f"the render took more than {MAX_RENDER_SECONDS:g} s and was stopped"
            )
        return
    if now > limit.deadline:
        raise RenderStopped(f"the render took longer than {limit.why} and was stopped")
    if limit.should_stop is not None and now >= limit.next_stop_check:
        limit.next_stop_check = now + STOP_CHECK_SECONDS
        if limit.should_stop():
            raise RenderStopped("the execution is being killed: the render was stopped")


class RenderState:
    """One render's position and budget; ``running`` holds the one under way."""

    __slots__ = ("block", "operations", "depth", "started")

    def __init__(self, depth: int) -> None:
        self.block = -1
        self.operations = 0
        self.depth = depth
        self.started = time.monotonic()

    def count(self, amount: int = 1) -> None:
        self.operations += amount
        if self.operations > MAX_OPERATIONS:
            raise LimitExceeded(
                f"the template does more than {MAX_OPERATIONS} loop steps and calls"
            )
        _check_bounds(self.started)


# A ContextVar, not a global: renders in different threads or tasks keep their own.
running: ContextVar[RenderState | None] = ContextVar("flowsite_render_state", default=None)


def current() -> RenderState:
    state = running.get()
    if state is None:  # a helper called outside render(): count against a throwaway state
        state = RenderState(0)
        running.set(state)
    return state

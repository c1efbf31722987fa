"""Follows one execution over a websocket: the stored lines after the client's last seen
id, then new ones as they are written, and the execution's state as it changes.

A run may have stored millions of lines: the socket sends at most the last BACKLOG of
those after the client's id, after a ``start`` message that says how many lines come
before them. The page reads the others by position when the reader scrolls to them
(executions/log_page.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.access import execution_for_follower

from .live import PERMISSIONS_GROUP, execution_group
from .models import Execution, LogLine

BATCH = 500
BACKLOG = 1000
# With Redis, wake-ups arrive from the workers and the poll is only a safety net.
# Without it the workers cannot reach this process, so the database is polled briskly.
POLL_SECONDS = 2.0 if settings.REDIS_URL else 0.1
RECHECK_SECONDS = 2.0


class ExecutionConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.execution_id: str = self.scope["url_route"]["kwargs"]["execution_id"]
        if not await self._may_follow():
            await self.close(code=4404)
            return
        self.last_id = _after_id(self.scope.get("query_string", b""))
        self.last_state: Any = None
        self.finished = False
        self._look = asyncio.Event()
        self._recheck = False
        await self.channel_layer.group_add(execution_group(self.execution_id), self.channel_name)
        await self.channel_layer.group_add(PERMISSIONS_GROUP, self.channel_name)
        await self.accept()
        total, self.last_id = await self._start()
        await self.send_json({"type": "start", "total": total, "lastId": self.last_id})
        self._follower = asyncio.create_task(self._follow())

    async def disconnect(self, code: int) -> None:
        follower = getattr(self, "_follower", None)
        if follower is not None:
            follower.cancel()
            await self.channel_layer.group_discard(
                execution_group(self.execution_id), self.channel_name
            )
            await self.channel_layer.group_discard(PERMISSIONS_GROUP, self.channel_name)

    async def execution_changed(self, event: dict[str, Any]) -> None:
        self._look.set()

    async def permissions_changed(self, event: dict[str, Any]) -> None:
        self._recheck = True
        self._look.set()

    async def _follow(self) -> None:
        last_check = time.monotonic()
        while not self.finished:
            # A revoked binding closes the socket: at once when told, else within a recheck.
            if self._recheck or time.monotonic() - last_check > RECHECK_SECONDS:
                self._recheck, last_check = False, time.monotonic()
                if not await self._may_follow():
                    await self.close(code=4403)
                    return
            await self._send_news()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._look.wait(), timeout=POLL_SECONDS)
            self._look.clear()

    async def _send_news(self) -> None:
        lines, state = await self._news()
        while lines:
            self.last_id = lines[-1]["id"]
            await self.send_json({"type": "logs", "lines": lines})
            if len(lines) < BATCH:
                break
            lines, state = await self._news()
        if state != self.last_state:
            self.last_state = state
            await self.send_json({"type": "state", **state})
        if state["terminal"]:
            lines, _ = await self._news()
            if not lines:  # everything stored has been sent: nothing more can come
                self.finished = True
                await self.send_json({"type": "end", "lastId": self.last_id})
                await self.close()  # no socket stays open that nobody re-checks

    @database_sync_to_async
    def _may_follow(self) -> bool:
        return execution_for_follower(self.scope.get("user"), self.execution_id) is not None

    @database_sync_to_async
    def _start(self) -> tuple[int, int]:
        """Where the backlog starts, past all but the last BACKLOG lines after the
        client's id, and how many lines come before it."""
        lines = LogLine.objects.filter(execution_id=self.execution_id)
        before = lines.filter(id__gt=self.last_id).order_by("-id").values_list("id", flat=True)
        start = max([*before[BACKLOG : BACKLOG + 1], self.last_id])
        return lines.filter(id__lte=start).count(), start

    @database_sync_to_async
    def _news(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        lines = [
            line.as_dict()
            for line in LogLine.objects.filter(
                execution_id=self.execution_id, id__gt=self.last_id
            ).order_by("id")[:BATCH]
        ]
        execution = Execution.objects.get(pk=self.execution_id)
        runs = [
            {"id": run.pk, "taskId": run.task_id, "state": run.state}
            for run in execution.task_runs.all()
        ]
        state = {"state": execution.state, "terminal": execution.is_terminal, "taskRuns": runs}
        return lines, state


def _after_id(query_string: bytes) -> int:
    from urllib.parse import parse_qs

    values = parse_qs(query_string.decode()).get("after", ["0"])
    try:
        return max(0, int(values[0]))
    except ValueError:
        return 0

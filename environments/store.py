"""Who builds an environment, and who waits for it: the database decides.

A run that wants an environment looks for the live row of its request key. READY: it is
used. BUILDING: another run builds it; this one waits, reading the row, until it is READY
or FAILED, or until its builder stops touching it (a worker that died), and then takes
over. None: this run inserts a BUILDING row and builds; the partial unique index on
request keys lets exactly one of two runs that try at once succeed, on SQLite and on
PostgreSQL alike, and across worker hosts.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.timezone import now

from .models import PythonEnvironment
from .requirements import requirements_normal

State = PythonEnvironment.State

HEARTBEAT_SECONDS = 5.0  # a builder touches its row this often
ABANDONED_SECONDS = 60.0  # a BUILDING row untouched this long lost its builder
WAIT_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Request:
    """An environment as a run asks for it."""

    runner: str
    place: str  # the engine's ID or the host: where the files are
    place_label: str
    platform: str  # the image's ID or the interpreter
    image: str
    installer: str  # UV or PIP
    requirements: tuple[str, ...]  # as written
    python_version: str = ""  # pythonVersion, when the task names one
    index_url: str = ""  # the package index it is built from; "" is PyPI

    @property
    def requested(self) -> list[str]:
        return requirements_normal(self.requirements)

    @property
    def key(self) -> str:
        parts = [
            self.runner,
            self.place,
            self.platform,
            self.installer,
            self.requested,
            self.python_version,
        ]
        if self.index_url:  # PyPI's keys stay those of environments built before the setting
            parts.append(self.index_url)
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class BuildStopped(Exception):
    """The run was asked to stop while it waited for another run's build."""


class BuildFailed(Exception):
    """Another run's build of the same environment failed: its message."""


@dataclass
class Claim:
    environment: PythonEnvironment
    build: bool  # True: this run builds it; False: it is READY


def environment_claim(
    request: Request,
    *,
    should_stop: Callable[[], bool],
    waiting: Callable[[PythonEnvironment], None],
) -> Claim:
    """The READY environment for ``request``, or a BUILDING one this run is to build.

    Waits while another run builds it (``waiting`` is told once); raises BuildFailed when
    that build fails, BuildStopped when ``should_stop`` says so meanwhile.
    """
    request_key = request.key
    told = False
    while True:
        live = _live(request_key)
        if live is not None and live.state == State.READY and _fresh(live):
            return Claim(live, build=False)
        if live is not None and live.state == State.READY:  # unpinned, past its TTL
            PythonEnvironment.objects.filter(pk=live.pk, state=State.READY).update(
                state=State.RETIRED
            )
            continue
        if live is None:
            claimed = _insert(request, request_key)
            if claimed is not None:
                return Claim(claimed, build=True)
            continue  # another run inserted it first: wait for that one
        if _abandoned(live):
            PythonEnvironment.objects.filter(pk=live.pk, touched_at=live.touched_at).update(
                state=State.FAILED, error="its builder stopped answering"
            )
            continue
        if not told:
            waiting(live)
            told = True
        if should_stop():
            raise BuildStopped()
        time.sleep(WAIT_POLL_SECONDS)
        live.refresh_from_db(fields=["state", "error", "touched_at"])
        if live.state == State.FAILED:
            raise BuildFailed(live.error or "the build failed")


def _live(request_key: str) -> PythonEnvironment | None:
    return (
        PythonEnvironment.objects.filter(
            request_key=request_key, state__in=[State.BUILDING, State.READY]
        )
        .order_by()
        .first()
    )


def _fresh(environment: PythonEnvironment) -> bool:
    """Pinned requirements never go stale; others are resolved again after the TTL."""
    if environment.pinned or environment.built_at is None:
        return True
    ttl = timedelta(seconds=settings.FLOWSITE_PYTHON_ENV_TTL_SECONDS)
    return now() - environment.built_at < ttl


def _abandoned(environment: PythonEnvironment) -> bool:
    return (now() - environment.touched_at).total_seconds() > ABANDONED_SECONDS


def _insert(request: Request, request_key: str) -> PythonEnvironment | None:
    try:
        with transaction.atomic():
            return PythonEnvironment.objects.create(
                key=secrets.token_hex(8),
                request_key=request_key,
                runner=request.runner,
                place=request.place,
                place_label=request.place_label,
                image=request.image,
                platform=request.platform,
                installer=request.installer,
                requested=request.requested,
                python_version=request.python_version,
                state=State.BUILDING,
            )
    except IntegrityError:
        return None


class Heartbeat:
    """Touches a BUILDING row every HEARTBEAT_SECONDS, called as often as one likes."""

    def __init__(self, environment: PythonEnvironment):
        self.environment = environment
        self._next = time.monotonic() + HEARTBEAT_SECONDS

    def __call__(self) -> None:
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + HEARTBEAT_SECONDS
        PythonEnvironment.objects.filter(pk=self.environment.pk, state=State.BUILDING).update(
            touched_at=now()
        )


def environment_ready(
    environment: PythonEnvironment, *, packages: list[str], python: str, size: int
) -> None:
    """The build succeeded: the environment serves its builder's run and every later one."""
    stamp = now()
    PythonEnvironment.objects.filter(pk=environment.pk).update(
        state=State.READY,
        packages=packages,
        python_version=python,
        size_bytes=size,
        built_at=stamp,
        last_used_at=stamp,
        touched_at=stamp,
        runs_served=1,
    )
    environment.refresh_from_db()


def environment_failed(environment: PythonEnvironment, error: str) -> None:
    PythonEnvironment.objects.filter(pk=environment.pk).update(
        state=State.FAILED, error=error[:4000], touched_at=now()
    )


def environment_used(environment: PythonEnvironment) -> None:
    PythonEnvironment.objects.filter(pk=environment.pk).update(
        last_used_at=now(), runs_served=F("runs_served") + 1
    )

"""Fixtures shared by the whole suite: personas, a Docker engine, and real Flowsite
processes (django-q2 workers, the daphne server) pointed at the test database."""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.db import connection

from tests.personas import PASSWORD, make_alice, make_bob, make_charlie

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
TEST_IMAGES = ("python:3.11-slim", "python:2.7.18-slim-stretch")


def skip_or_fail(reason: str) -> None:
    """On a laptop a missing engine or browser skips; in CI it fails the run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must have it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def python_environments_removed_at_the_end() -> Iterator[None]:
    """The Python environments the suite built: their volumes (those of this
    installation only) and the Process runner's directories, gone when it ends."""
    yield
    with contextlib.suppress(Exception):  # no engine: nothing of it to remove
        import docker

        client = docker.from_env()
        labels = ["flowsite.pyenv", f"flowsite.installation={settings.FLOWSITE_INSTALLATION_ID}"]
        for volume in client.volumes.list(filters={"label": labels}):
            with contextlib.suppress(docker.errors.APIError):
                volume.remove(force=True)
    shutil.rmtree(Path(settings.FLOWSITE_PROCESS_DIR) / "pyenvs", ignore_errors=True)


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    # Every API request checks a password; the production hasher costs 0.3 s a check.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The suite runs Process tasks in many namespaces; the Process runner's own tests narrow
# this to its default (tests/hostile_teammate/test_process_runner.py).
ALL_NAMESPACES_MAY_USE_PROCESS = "*"


@pytest.fixture(autouse=True)
def process_runner_everywhere(settings: Any) -> None:
    settings.FLOWSITE_PROCESS_NAMESPACES = [ALL_NAMESPACES_MAY_USE_PROCESS]


@pytest.fixture
def task_tmp_path() -> Iterator[Path]:
    """A directory Process tasks can read too. They run as users of their own, and
    pytest's tmp_path (under /tmp/pytest-of-root, mode 0700) is closed to them."""
    path = Path(tempfile.mkdtemp(prefix="flowsite-test-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def fresh_cache(settings: Any) -> None:
    # Failed logins are counted in the cache, which outlives a test and a run: each test
    # gets its own, so one test's wrong passwords never slow or lock the next. (Not
    # cache.clear(): with Redis that would empty what django-q2 and Channels share.)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4()}",
        }
    }


@pytest.fixture(autouse=True)
def no_run_outlives_its_test(request: Any, _django_db_helper: Any) -> Iterator[None]:
    """A transactional test's database is flushed when it ends; a worker still running
    one of its executions then races the flush (PostgreSQL may call it a deadlock).
    Executions still going are killed and waited for first: after the test itself,
    before the flush (this fixture depends on pytest-django's database one)."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "transactional_db" in request.fixturenames
    )
    if not transactional:
        return
    from executions.lifecycle import execution_kill
    from executions.models import TERMINAL_STATES, Execution, State, TaskRun
    from flows.language.tasks import WORKERLESS_TYPES

    going = list(Execution.objects.exclude(state__in=TERMINAL_STATES))
    for execution in going:
        execution_kill(execution_id=execution.pk)
    # Wait for the workers still holding one of their tasks (claimed, so beating);
    # rows a test wrote by hand have no worker to wait for.
    held = TaskRun.objects.filter(
        execution__in=going, state=State.RUNNING, heartbeat_at__isnull=False
    ).exclude(task_type__in=WORKERLESS_TYPES)
    deadline = time.monotonic() + 10
    while held.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def basic_auth(username: str = "alice", password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
def api(client: Any, alice: Any) -> Any:
    """The test client, logged in as alice through HTTP Basic auth."""
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth()
    return client


@pytest.fixture
def alice(db: Any) -> Any:
    return make_alice()


@pytest.fixture
def bob(db: Any) -> Any:
    return make_bob()


@pytest.fixture
def charlie(db: Any) -> Any:
    return make_charlie()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture(scope="session")
def docker_engine() -> Any:
    import docker
    from docker.errors import DockerException, ImageNotFound

    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        skip_or_fail(f"No Docker engine answers: {exc}")
    for image in TEST_IMAGES:
        try:
            client.images.get(image)
        except ImageNotFound:
            try:  # a machine that reaches a registry just pulls it
                repository, tag = image.split(":")
                client.images.pull(repository, tag)
            except DockerException:
                skip_or_fail(f"Test image {image} is missing: run scripts/build-images.sh")
    return client


def flowsite_env(**extra: str) -> dict[str, str]:
    """Environment for a Flowsite process that uses this test session's database."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONUNBUFFERED": "1",
        "FLOWSITE_PROCESS_NAMESPACES": ALL_NAMESPACES_MAY_USE_PROCESS,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


class FlowsiteProcess:
    def __init__(self, args: list[str], env: dict[str, str], name: str):
        self.log_path = Path(settings.DATA_DIR) / f"test-{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stop() reaches django-q2's child processes too
        )

    def wait_for(self, ready: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{what} exited: {self.log_path.read_text()[-3000:]}")
            if ready():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{what} did not become ready: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        # The main process stops its own children; signalling them too hangs django-q2.
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever of the group is left
        self.process.wait()
        self._log.close()


def start_worker(**env: str) -> FlowsiteProcess:
    """A real django-q2 cluster (``manage.py qcluster``) on the test database."""
    worker = FlowsiteProcess(
        ["manage.py", "qcluster"],
        flowsite_env(FLOWSITE_QUEUE_LOG_LEVEL="INFO", **env),
        "worker",
    )
    worker.wait_for(lambda: "running" in worker.log_path.read_text(), "The django-q2 cluster")
    return worker


@pytest.fixture(scope="module")
def worker(django_db_setup: Any, django_db_blocker: Any) -> Iterator[FlowsiteProcess]:
    # Per module, so a module may instead start a worker configured its own way.
    process = start_worker()
    yield process
    process.stop()


def start_clock(**env: str) -> FlowsiteProcess:
    """The real clock (``manage.py clock``) on the test database."""
    clock = FlowsiteProcess(["manage.py", "clock"], flowsite_env(**env), "clock")
    clock.wait_for(lambda: "Clock running" in clock.log_path.read_text(), "The clock")
    return clock


@pytest.fixture(scope="module")
def clock(django_db_setup: Any, django_db_blocker: Any) -> Iterator[FlowsiteProcess]:
    """A clock process ticking every second: it fires the schedules of the module's flows."""
    process = start_clock()
    yield process
    process.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def server_url(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Flowsite's ASGI app served by a real daphne process on the test database."""
    port = _free_port()
    server = FlowsiteProcess(
        ["-m", "flowsite.web", "-b", "127.0.0.1", "-p", str(port), "flowsite.asgi:application"],
        flowsite_env(),
        "server",
    )
    server.wait_for(lambda: _port_answers(port), "daphne")
    yield f"http://127.0.0.1:{port}"
    server.stop()


T = TypeVar("T")


def wait_until(predicate: Callable[[], T | None], *, timeout: float = 30, what: str = "") -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what or predicate}")

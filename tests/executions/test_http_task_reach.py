"""What an HTTP task may reach, on a real worker of its own: the certificates the worker's
tasks trust (a TLS-inspecting proxy's CA through FLOWSITE_EXTRA_CA_CERTS), and never the
server's own services (its database, Redis, Docker engine), however it is pointed there.

The worker of this module talks to a "Docker engine" over TCP (DOCKER_HOST): a plain HTTP
server of the test stands in for it, so that reaching it would visibly succeed."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from executions.lifecycle import execution_start
from executions.models import Execution, State, TaskRun
from tests.conftest import FlowsiteProcess, start_worker
from tests.executions.http_server import http_server
from tests.flows_helpers import finished, messages, save_flow

pytestmark = pytest.mark.django_db(transaction=True)


def make_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("certificates")
    directory.chmod(0o755)  # the worker reads the trusted one
    return {name: make_certificate(directory, name) for name in ("trusted", "unknown")}


@pytest.fixture(scope="module")
def engine_standin() -> Iterator[str]:
    # On every address of the host, as an engine listening on TCP usually is: reachable
    # through 127.0.0.2 and the host's own address too.
    with http_server(host="0.0.0.0") as url:
        yield url


@pytest.fixture(scope="module")
def proxy_standin() -> Iterator[str]:
    with http_server() as url:
        yield url


@pytest.fixture(scope="module")
def reach_worker(
    django_db_setup, django_db_blocker, certificates, engine_standin, proxy_standin
) -> Iterator[FlowsiteProcess]:
    port = urlsplit(engine_standin).port
    own = host_address()
    direct = ["127.0.0.0/8", "localhost", *([own] if own else [])]
    process = start_worker(
        FLOWSITE_EXTRA_CA_CERTS=str(certificates["trusted"][0]),
        DOCKER_HOST=f"tcp://127.0.0.1:{port}",
        HTTP_PROXY=proxy_standin,
        NO_PROXY=",".join(direct),
    )
    yield process
    process.stop()


@pytest.fixture(scope="module")
def open_site() -> Iterator[str]:
    with http_server() as url:
        yield url


def host_address() -> str | None:
    """This host's own address on its network, if it has one besides the loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent: only a route is chosen
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def run(tasks: str, *, flow_id: str) -> Execution:
    source = f"id: {flow_id}\nnamespace: company.team\ntasks:\n{tasks}"
    return finished(execution_start(flow=save_flow(source)))


def get(task_id: str, uri: str, extra: str = "") -> str:
    return (
        f"  - id: {task_id}\n    type: io.kestra.plugin.core.http.Request\n"
        f"    uri: {uri}\n    allowFailure: true\n{extra}"
    )


def task(execution: Execution, task_id: str) -> TaskRun:
    return execution.task_runs.get(task_id=task_id)


def test_https_works_with_a_certificate_the_worker_was_told_to_trust(
    reach_worker, certificates
) -> None:
    with (
        http_server(certificates["trusted"]) as trusted,
        http_server(certificates["unknown"]) as unknown,
    ):
        execution = run(
            get("trusted", f"{trusted}/status.json")
            + get("unknown", f"{unknown}/status.json")
            + get(
                "insecure",
                f"{unknown}/status.json",
                "    options:\n      ssl:\n        insecureTrustAllCertificates: true\n",
            ),
            flow_id="https-trust",
        )
    assert task(execution, "trusted").state == State.SUCCESS, messages(execution)
    assert task(execution, "trusted").outputs["code"] == 200
    assert task(execution, "unknown").state == State.FAILED
    assert "CERTIFICATE_VERIFY_FAILED" in task(execution, "unknown").error
    assert task(execution, "insecure").outputs["code"] == 200


def test_a_request_never_reaches_the_docker_engine_by_address_name_or_redirect(
    reach_worker, engine_standin, open_site
) -> None:
    port = urlsplit(engine_standin).port
    ways = ["by_address", "by_name", "by_alias", "by_redirect"]
    own = host_address()
    extra = get("by_host_address", f"http://{own}:{port}/containers/json") if own else ""
    ways += ["by_host_address"] if own else []
    execution = run(
        extra
        + get("by_address", f"{engine_standin}/containers/json")
        + get("by_name", f"http://localhost:{port}/containers/json")
        + get("by_alias", f"http://127.0.0.2:{port}/containers/json")
        + get("by_redirect", f"{open_site}/to/{engine_standin}/containers/json")
        + get("elsewhere", f"{open_site}/status.json"),
        flow_id="http-engine-closed",
    )
    for task_id in ways:
        run_ = task(execution, task_id)
        assert run_.state == State.FAILED, task_id
        assert "HTTP tasks may not connect to" in run_.error, (task_id, run_.error)
        assert "outputs" not in run_.outputs and "code" not in run_.outputs
    assert task(execution, "elsewhere").outputs["code"] == 200


def test_a_request_never_reaches_the_database_or_redis(reach_worker) -> None:
    database = settings.DATABASES["default"]
    targets = []
    if database["ENGINE"].endswith("postgresql"):
        targets.append(f"http://{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/")
    if settings.REDIS_URL:
        redis = urlsplit(settings.REDIS_URL)
        targets.append(f"http://{redis.hostname}:{redis.port or 6379}/")
    if not targets:
        pytest.skip("The embedded configuration has no database or Redis on the network")
    tasks = "".join(get(f"service_{index}", target) for index, target in enumerate(targets))
    execution = run(tasks, flow_id="http-services-closed")
    for index in range(len(targets)):
        assert "HTTP tasks may not connect to" in task(execution, f"service_{index}").error


def test_a_request_goes_through_the_proxy_the_workers_environment_names(
    reach_worker, open_site
) -> None:
    execution = run(
        get("far", "http://orders.example.invalid/status.json")
        + get("near", f"{open_site}/status.json"),
        flow_id="http-proxy",
    )
    far = task(execution, "far")
    assert far.outputs["body"] == "proxied http://orders.example.invalid/status.json"
    assert "green" in task(execution, "near").outputs["body"]  # NO_PROXY: straight there

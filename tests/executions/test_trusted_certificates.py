"""Tasks trust the host's certificates plus FLOWSITE_EXTRA_CA_CERTS, as a company proxy needs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from executions.runners.base import ca_bundle
from executions.runners.process import _ca_file
from tests.flows_helpers import PROCESS, flow_yaml, messages, run_here, save_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def company_ca(tmp_path: Path, settings) -> Iterator[str]:
    pem = tmp_path / "company-proxy.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=Flowsite Test Proxy CA", "-keyout", str(tmp_path / "key.pem"), "-out", str(pem)],
        check=True, capture_output=True,
    )  # fmt: skip
    settings.FLOWSITE_EXTRA_CA_CERTS = [str(pem)]
    ca_bundle.cache_clear()
    _ca_file.cache_clear()
    yield pem.read_text().strip().splitlines()[1]  # a line of the certificate's body
    ca_bundle.cache_clear()
    _ca_file.cache_clear()


def trust_check(runner: str) -> str:
    return flow_yaml(
        "  - id: ca\n    type: shell.Commands\n    containerImage: python:3.11-slim\n"
        f"    taskRunner:\n      type: {runner}\n"
        "    commands:\n"
        "      - 'for v in PIP_CERT SSL_CERT_FILE REQUESTS_CA_BUNDLE; do eval echo \\$$v; done'\n"
        "      - grep -c BEGIN.CERTIFICATE $PIP_CERT\n"
        "      - cat $PIP_CERT\n",
        flow_id=f"ca-{runner.rsplit('.', 1)[-1].lower()}",
    )


def test_process_tasks_trust_the_extra_certificates_and_the_hosts(company_ca: str) -> None:
    lines = messages(run_here(save_flow(trust_check(PROCESS))))
    assert len(set(lines[:3])) == 1  # pip, OpenSSL and requests all read one bundle
    assert int(lines[3]) > 100  # the host's own bundle is kept, not replaced
    assert company_ca in lines


@pytest.mark.docker
def test_containers_trust_the_extra_certificates_and_the_hosts(
    docker_engine, company_ca: str
) -> None:
    runner = "io.kestra.plugin.scripts.runner.docker.Docker"
    lines = messages(run_here(save_flow(trust_check(runner))))
    assert lines[:3] == ["/etc/flowsite/ca-certificates.crt"] * 3
    assert int(lines[3]) > 100
    assert company_ca in lines

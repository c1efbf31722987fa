from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.personas import PASSWORD


def basic_auth(username: str = "alice", password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
def api(client: Any, alice: Any) -> Any:
    """The test client, logged in as alice through HTTP Basic auth."""
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth()
    return client

"""The New flow page and its header link speak to what the reader may do: a starter in
a namespace they may write to, or why they cannot write and whom to ask."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import Role, RoleBinding
from flows.models import Flow

pytestmark = pytest.mark.django_db

NEW_FLOW_LINK = 'href="/flows/new/">New flow</a>'


def _get(client: Client, user: Any, path: str = "/flows/new/") -> str:
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return unescape(response.content.decode())


def _starter(html: str) -> str:
    start = html.index('aria-label="Flow YAML">') + len('aria-label="Flow YAML">')
    return html[start : html.index("</textarea>", start)]


def test_alice_starts_in_dev_and_is_offered_the_link(client: Client, alice: Any) -> None:
    html = _get(client, alice)

    assert "namespace: dev" in _starter(html)
    assert NEW_FLOW_LINK in html


def test_bob_starts_in_the_namespace_he_may_write_and_its_first_save_is_kept(
    client: Client, bob: Any
) -> None:
    starter = _starter(_get(client, bob))
    assert "namespace: company.data\n" in starter

    response = client.post("/flows/new/", {"source": starter})

    assert response.status_code == 302
    assert Flow.objects.filter(namespace="company.data", flow_id="my-flow").exists()


def test_charlie_with_no_role_is_told_whom_to_ask_and_offered_no_editor(
    client: Client, charlie: Any
) -> None:
    get_user_model().objects.create(username="root", is_superuser=True)

    html = _get(client, charlie)

    assert "You have no role on any namespace yet" in html and "<strong>root</strong>" in html
    assert "<textarea" not in html and "editor/editor.js" not in html
    assert NEW_FLOW_LINK not in _get(client, charlie, "/executions/")


def test_a_viewer_is_told_that_writing_needs_the_editor_role(client: Client, charlie: Any) -> None:
    RoleBinding.objects.create(namespace="company", user=charlie, role=Role.VIEWER)

    html = _get(client, charlie)

    assert 'data-testid="may-not-write"' in html and "Editor role" in html
    assert "<textarea" not in html
    assert NEW_FLOW_LINK not in html

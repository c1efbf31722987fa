"""Personal API tokens: shown once, kept hashed, expiring, revocable, never more than their owner."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, Role, RoleBinding
from accounts.tokens import token_create, token_revoke, token_user
from executions.models import Execution
from flows.models import Flow
from tests.flows_helpers import flow_yaml

TOKENS = "/tokens/"
FLOW_X = "/api/v1/flows/dev/x"
START_X = "/api/v1/executions/dev/x"
TOKEN_IN_PAGE = re.compile(r"fst_[A-Za-z0-9_-]{43}")


@pytest.fixture
def flow_x(db: Any) -> Flow:
    return Flow.save_source(
        flow_yaml(
            """\
            - id: hi
              type: io.kestra.plugin.core.log.Log
              message: hi
            """,
            flow_id="x",
        )
    )


def bearer(client: Client, token: str) -> Client:
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def create_through_page(client: Client, user: Any, name: str = "CI", days: int = 30) -> str:
    client.force_login(user)
    response = client.post(TOKENS, {"name": name, "days": days})
    assert response.status_code == 200
    return TOKEN_IN_PAGE.findall(response.content.decode())[0]


def test_a_token_created_on_the_page_is_shown_once(client: Client, alice: Any) -> None:
    token = create_through_page(client, alice, name="deploys")

    page = client.get(TOKENS).content.decode()
    assert "deploys" in page
    assert token[:12] in page  # its prefix tells it apart
    assert token not in page
    assert not TOKEN_IN_PAGE.search(page)


def test_the_database_holds_only_the_tokens_sha256(client: Client, alice: Any) -> None:
    token = create_through_page(client, alice)

    row = ApiToken.objects.values().get(user=alice)
    assert row["hashed"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in row.values())


def test_a_token_expires_after_the_chosen_number_of_days(client: Client, alice: Any) -> None:
    create_through_page(client, alice, days=7)

    lifetime = ApiToken.objects.get(user=alice).expires_at - timezone.now()
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)


@pytest.mark.parametrize("days", ["0", "", "36500"])
def test_a_token_that_never_expires_cannot_be_made(client: Client, alice: Any, days: str) -> None:
    client.force_login(alice)

    response = client.post(TOKENS, {"name": "forever", "days": days})

    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_the_api_accepts_a_token_with_its_owners_permissions(
    client: Client, alice: Any, flow_x: Flow
) -> None:
    token, raw = token_create(user=alice, name="CI", days=30)

    response = bearer(client, raw).get(FLOW_X)

    assert response.status_code == 200
    assert response.json()["id"] == "x"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_an_outsiders_token_does_not_see_the_flow(
    client: Client, charlie: Any, flow_x: Flow
) -> None:
    _, raw = token_create(user=charlie, name="CI", days=30)

    assert bearer(client, raw).get(FLOW_X).status_code == 404


def test_a_viewers_token_cannot_start_an_execution(
    client: Client, charlie: Any, flow_x: Flow
) -> None:
    RoleBinding.objects.create(namespace="dev", user=charlie, role=Role.VIEWER)
    _, raw = token_create(user=charlie, name="CI", days=30)

    assert bearer(client, raw).get(FLOW_X).status_code == 200
    response = client.post(START_X)

    assert response.status_code == 403
    assert not Execution.objects.exists()


def test_an_expired_token_gets_401(client: Client, alice: Any, flow_x: Flow) -> None:
    token, raw = token_create(user=alice, name="CI", days=7)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = bearer(client, raw).get(FLOW_X)

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or expired token"
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_a_revoked_token_gets_401(client: Client, alice: Any, flow_x: Flow) -> None:
    token, raw = token_create(user=alice, name="CI", days=30)
    assert bearer(client, raw).get(FLOW_X).status_code == 200

    token_revoke(token=token)
    response = client.get(FLOW_X)

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or expired token"


@pytest.mark.parametrize("raw", ["fst_not-a-real-token", "some-token", ""])
def test_an_unknown_token_gets_401(client: Client, alice: Any, flow_x: Flow, raw: str) -> None:
    response = bearer(client, raw).get(FLOW_X)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_a_refused_token_changes_nothing(client: Client, alice: Any, flow_x: Flow) -> None:
    token, raw = token_create(user=alice, name="CI", days=30)
    token_revoke(token=token)

    assert bearer(client, raw).delete(FLOW_X).status_code == 401
    assert Flow.objects.live().filter(namespace="dev", flow_id="x").exists()


def test_a_deactivated_users_token_gets_401(client: Client, alice: Any, flow_x: Flow) -> None:
    _, raw = token_create(user=alice, name="CI", days=30)
    alice.is_active = False
    alice.save()

    assert bearer(client, raw).get(FLOW_X).status_code == 401


def test_revoking_on_the_page_stops_the_token(client: Client, alice: Any, flow_x: Flow) -> None:
    raw = create_through_page(client, alice)
    token = ApiToken.objects.get(user=alice)

    response = client.post(f"/tokens/{token.pk}/revoke/")

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "revoked" in client.get(TOKENS).content.decode()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(FLOW_X).status_code == 401


def test_revoking_with_htmx_answers_the_updated_list(client: Client, alice: Any) -> None:
    token, _ = token_create(user=alice, name="CI", days=30)
    client.force_login(alice)

    response = client.post(f"/tokens/{token.pk}/revoke/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert "revoked" in response.content.decode()


def test_another_users_token_cannot_be_revoked(client: Client, alice: Any, bob: Any) -> None:
    alices, _ = token_create(user=alice, name="alice's", days=30)
    client.force_login(bob)

    response = client.post(f"/tokens/{alices.pk}/revoke/")

    assert response.status_code == 404
    alices.refresh_from_db()
    assert alices.revoked_at is None


def test_a_user_sees_only_their_own_tokens(client: Client, alice: Any, bob: Any) -> None:
    token_create(user=alice, name="alice-laptop", days=30)
    token_create(user=bob, name="bob-laptop", days=30)
    client.force_login(bob)

    page = client.get(TOKENS).content.decode()

    assert "bob-laptop" in page
    assert "alice-laptop" not in page


def test_anonymous_users_are_sent_to_log_in(client: Client, db: Any) -> None:
    response = client.get(TOKENS)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/tokens/")


def test_last_use_is_recorded_at_most_once_a_minute(alice: Any) -> None:
    token, raw = token_create(user=alice, name="CI", days=30)
    recently = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recently)

    assert token_user(raw) == alice
    token.refresh_from_db()
    assert token.last_used_at == recently

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recently - timedelta(minutes=1))
    token_user(raw)
    token.refresh_from_db()
    assert token.last_used_at > recently


def test_creating_and_revoking_a_token_is_audited(client, alice) -> None:
    from accounts.models import ApiToken, AuditEntry

    client.force_login(alice)
    client.post("/tokens/", {"name": "ci", "days": "30"})
    token = ApiToken.objects.get(user=alice)
    client.post(f"/tokens/{token.pk}/revoke/")
    entries = AuditEntry.objects.filter(object_type="token").order_by("id")
    assert [(e.actor_name, e.action, e.object_id) for e in entries] == [
        ("alice", "created", token.prefix),
        ("alice", "revoked", token.prefix),
    ]

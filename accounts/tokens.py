"""Personal API tokens: created once in plain text, kept only as a sha256, always expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from flowsite.rows import row_or_none

from .models import ApiToken

PREFIX = "fst_"  # so a leaked token is recognisable, e.g. by secret scanners
LIFETIMES = (7, 30, 90, 365)  # days; there is deliberately no token that never expires
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is a hint, not a write per request


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user: User, name: str, days: int) -> tuple[ApiToken, str]:
    """A new token of ``user`` and its plain text, which nobody can read again afterwards."""
    if days not in LIFETIMES:
        raise ValueError(f"A token lives {', '.join(map(str, LIFETIMES))} days, not {days}")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[: ApiToken._meta.get_field("prefix").max_length],
        hashed=token_hash(raw),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return token, raw


def token_user(raw: str) -> User | None:
    """The active user a live token belongs to; None for an unknown, expired or revoked one."""
    if not raw.startswith(PREFIX):
        return None
    now = timezone.now()
    token = row_or_none(
        ApiToken.objects.select_related("user").filter(
            revoked_at=None, expires_at__gt=now, user__is_active=True
        ),
        hashed=token_hash(raw),
    )
    if token is None:
        return None
    if token.last_used_at is None or token.last_used_at < now - TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def token_revoke(*, token: ApiToken) -> bool:
    """Revoke ``token`` for good; False when it already was."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
    return bool(revoked)

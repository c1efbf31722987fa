"""The fixed people of the suite, as in healthchecks' hc/test.py.

- alice owns the work: Admin of the namespaces ``dev``, ``company`` and ``browser``.
- bob is her teammate: in the team ``data``, which is Editor on ``company.data``.
- charlie is an outsider: no role anywhere.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from accounts.models import Role, RoleBinding, Team

PASSWORD = "correct horse battery staple"
ALICE_NAMESPACES = ("dev", "company", "browser")


def _user(username: str, **extra: Any) -> Any:
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults=extra)
    if created:
        user.set_password(PASSWORD)
        user.save()
    return user


def make_alice() -> Any:
    alice = _user("alice", email="alice@example.org")
    for namespace in ALICE_NAMESPACES:
        RoleBinding.objects.get_or_create(
            namespace=namespace, user=alice, defaults={"role": Role.ADMIN}
        )
    return alice


def make_bob() -> Any:
    bob = _user("bob", email="bob@example.org")
    team, _ = Team.objects.get_or_create(name="data")
    team.members.add(bob)
    RoleBinding.objects.get_or_create(
        namespace="company.data", team=team, defaults={"role": Role.EDITOR}
    )
    return bob


def make_charlie() -> Any:
    return _user("charlie", email="charlie@example.org")

"""The fixed people of the suite, as in healthchecks' hc/test.py.

alice owns the flows, bob is her teammate, charlie is an outsider. Until team
permissions arrive, every logged-in user may do everything; permission tests will
keep these names.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

PASSWORD = "correct horse battery staple"


def _user(username: str, **extra: Any) -> Any:
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults=extra)
    if created:
        user.set_password(PASSWORD)
        user.save()
    return user


def make_alice() -> Any:
    return _user("alice", email="alice@example.org")


def make_bob() -> Any:
    return _user("bob", email="bob@example.org")


def make_charlie() -> Any:
    return _user("charlie", email="charlie@example.org")

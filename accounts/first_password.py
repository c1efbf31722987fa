"""The generated password of the first superuser, kept in the data directory until
it is changed, so that it does not scroll away under the start-up output: the
supervisor shows it again once the server answers (flowsite/supervisor.py)."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

FILE_NAME = "admin-password"
USERNAME = "admin"


def first_password_path() -> Path:
    return Path(settings.DATA_DIR) / FILE_NAME


def first_password_keep(password: str) -> Path:
    path = first_password_path()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as kept:
        kept.write(password + "\n")
    return path


def first_password_forget_if_changed() -> None:
    """Removes the kept password once it no longer opens admin's account: changed on the
    Password page, by ``manage.py changepassword``, or the account is gone."""
    path = first_password_path()
    try:
        password = path.read_text().strip()
    except FileNotFoundError:
        return
    admin = get_user_model().objects.filter(username=USERNAME).first()
    if admin is None or not admin.check_password(password):
        path.unlink(missing_ok=True)

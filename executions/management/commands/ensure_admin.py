from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts.first_password import first_password_forget_if_changed, first_password_keep


class Command(BaseCommand):
    help = (
        "Create the first superuser 'admin' if no user exists yet. Its password is "
        "FLOWSITE_ADMIN_PASSWORD, or one generated, printed and kept in the data directory "
        "until admin changes it."
    )

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        if User.objects.exists():
            first_password_forget_if_changed()
            return
        password = os.environ.get("FLOWSITE_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", password=password)
        if "FLOWSITE_ADMIN_PASSWORD" in os.environ:
            self.stdout.write("Created superuser 'admin' with FLOWSITE_ADMIN_PASSWORD.")
            return
        kept = first_password_keep(password)
        self.stdout.write(
            self.style.WARNING(
                f"Created superuser 'admin' with password: {password}\n"
                f"It is kept in {kept} (readable by you alone) until admin changes it, "
                "and shown again once Flowsite is ready."
            )
        )

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the first superuser 'admin' if no user exists yet. Its password is "
        "FLOWSITE_ADMIN_PASSWORD, or one generated and printed this once."
    )

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        if User.objects.exists():
            return
        password = os.environ.get("FLOWSITE_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", password=password)
        if "FLOWSITE_ADMIN_PASSWORD" in os.environ:
            self.stdout.write("Created superuser 'admin' with FLOWSITE_ADMIN_PASSWORD.")
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Created superuser 'admin' with password: {password}\n"
                    "It is shown only this once; change it after logging in."
                )
            )

from typing import Any

from django.core.management.base import BaseCommand

from stammkunde.core.services import demo_admin_ensure


class Command(BaseCommand):
    help = "Create the demo admin (password kept in var/admin_password) and print the login."

    def handle(self, *args: Any, **opts: Any) -> None:
        username, password = demo_admin_ensure()
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Stammkunde runs on http://127.0.0.1:8000\n  Login: {username} / {password}\n"
            )
        )

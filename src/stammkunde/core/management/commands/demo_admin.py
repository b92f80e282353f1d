from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from stammkunde.core.roles import ALL_ROLES, ROLE_NAMES
from stammkunde.core.services import demo_admin_ensure


class Command(BaseCommand):
    help = (
        "Create the demo admin (password kept in var/admin_password) and print a login "
        "for every role of the demo shop."
    )

    def handle(self, *args: Any, **opts: Any) -> None:
        username, password = demo_admin_ensure()
        width = max(len(str(name)) for name in ROLE_NAMES.values()) + 2
        lines = [f"{ROLE_NAMES['admin']!s:<{width}}{username} / {password}"]
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        for role in ALL_ROLES[1:]:
            # The demo gives every team member the admin's password (see service/demo.py).
            for user in users.filter(groups__name=role):
                if user.check_password(password):
                    lines.append(f"{ROLE_NAMES[role]!s:<{width}}{user.username} / {password}")
                    break
        self.stdout.write(
            self.style.SUCCESS(
                "\n  Stammkunde runs on http://127.0.0.1:8000\n  "
                + _("Logins (role, user / password):")
                + "\n    "
                + "\n    ".join(lines)
                + "\n"
            )
        )

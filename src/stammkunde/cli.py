"""The ``stammkunde`` console script: Django's and the project's management commands."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a management command; ``stammkunde --help`` lists all of them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        args = ["help"]
    execute_from_command_line(["stammkunde", *args])


if __name__ == "__main__":
    main()

"""First run: on a fresh install without any user, the start page opens the setup wizard."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from stammkunde.core.selectors import any_user_exists


class FirstRunMiddleware:
    """Send an anonymous visitor of ``/`` to the wizard while the install has no user.

    Only the start page: every other URL (health, the contact form, the API)
    answers as always. The check is one indexed ``EXISTS`` for an anonymous
    visitor of ``/`` only (who is sent on to the login anyway), so it is not
    remembered: a database emptied again starts the wizard again.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path == "/"
            and request.method == "GET"
            and not request.user.is_authenticated
            and not any_user_exists()
        ):
            return redirect("settings:welcome")
        return self.get_response(request)

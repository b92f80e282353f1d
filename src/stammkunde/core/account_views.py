"""Login (rate-limited, with the optional code step), password reset by mail, TOTP set-up."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _

from . import twofactor
from .ratelimit import LIMIT_MESSAGE, rate_limited

PENDING_KEY = "stammkunde_login_pending"
PENDING_SECONDS = 300  # the code step must follow the password within five minutes


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the authenticator app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )


class LoginView(auth_views.LoginView):
    """Django's login, counted per address and login name; a second step for TOTP users."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if rate_limited(request, "login", account=str(request.POST.get("username", ""))):
            # Refused before the password is checked: a limited client learns nothing.
            context = self.get_context_data(
                form=self.get_form_class()(request), error=LIMIT_MESSAGE
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if twofactor.confirmed_device(user) is None:
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),
            "at": time.time(),
        }
        return HttpResponseRedirect(reverse("login_code"))


def _pending_user(request: HttpRequest) -> tuple[Any, dict[str, Any]] | None:
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return (user, pending) if user is not None else None


def login_code_view(request: HttpRequest) -> HttpResponse:
    """The second login step: the code of the user's authenticator app."""
    found = _pending_user(request)
    if found is None:
        messages.error(request, _("Please log in again."))
        return redirect("login")
    user, pending = found
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if rate_limited(request, "login", account=user.get_username()):
            form.add_error(None, LIMIT_MESSAGE)
            return render(request, "registration/login_code.html", {"form": form}, status=429)
        device = twofactor.confirmed_device(user)
        if (
            form.is_valid()
            and device is not None
            and device.verify_token(form.cleaned_data["code"])
        ):
            del request.session[PENDING_KEY]
            auth_login(request, user, backend=pending["backend"])
            from django_otp import login as otp_login

            otp_login(request, device)
            return HttpResponseRedirect(pending["next"])
        # A wrong code counts as a failed login for the lockout (django-axes).
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=request
        )
        form.add_error("code", _("The code is not valid. Enter the current code of the app."))
    return render(request, "registration/login_code.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset by mail (same answer for unknown addresses), rate-limited."""

    success_url = reverse_lazy("password_reset_done")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if rate_limited(request, "password_reset", account=str(request.POST.get("email", ""))):
            form = self.get_form()
            form.is_valid()
            form.add_error(None, LIMIT_MESSAGE)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


@login_required
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Set up (QR code and secret, confirmed by a first code) or remove the second factor."""
    if not twofactor.may_use_totp(request.user):
        raise PermissionDenied
    form = CodeForm(request.POST or None)
    device = twofactor.confirmed_device(request.user)
    if device is not None:
        if request.method == "POST" and form.is_valid():
            if twofactor.device_remove(user=request.user, code=form.cleaned_data["code"]):
                messages.success(request, _("Two-factor login is switched off."))
                return redirect("two_factor")
            form.add_error("code", _("The code is not valid. Enter the current code of the app."))
        return render(request, "registration/two_factor.html", {"form": form, "active": True})
    pending = twofactor.pending_device(request.user)
    if request.method == "POST" and form.is_valid():
        if twofactor.device_confirm(device=pending, code=form.cleaned_data["code"]):
            from django_otp import login as otp_login

            otp_login(request, pending)
            messages.success(request, _("Two-factor login is switched on."))
            return redirect("two_factor")
        form.add_error("code", _("The code is not valid. Enter the current code of the app."))
    context = {
        "form": form,
        "active": False,
        "qr_svg": twofactor.device_qr_svg(pending),
        "secret": twofactor.device_secret(pending),
    }
    return render(request, "registration/two_factor.html", context)

"""The settings pages and the first-run wizard: parse, call one service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stammkunde.channels import selectors as channels_selectors
from stammkunde.channels import services as channels_services
from stammkunde.core import selectors as core_selectors
from stammkunde.core import services as core_services
from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import ADMIN, AGENT, PARTNER_AGENT, TEAM_LEAD
from stammkunde.core.setting_sections import settings_sections_for
from stammkunde.service import setup_selectors as service_selectors
from stammkunde.service.services import setup as service_services

from . import selectors, services
from .forms import (
    ROLE_LABELS,
    CalendarForm,
    CompanyLogoForm,
    FirstAdminForm,
    FirstMailForm,
    FirstQueueForm,
    FirstRunCompanyForm,
    InviteForm,
    MailboxForm,
    OutgoingServerForm,
    QueueForm,
    ReplyTemplateForm,
    SLAPolicyForm,
    UserRolesForm,
)

DESK_ROLES = {ADMIN, TEAM_LEAD, AGENT, PARTNER_AGENT}


def _require(request: HttpRequest, allowed: Callable[[Any], bool]) -> None:
    if not allowed(request.user):
        raise PermissionDenied


def _form_errors(form: Any, exc: ApplicationError) -> None:
    """Put a service's refusal on the form: on its field when the form has it, else on top."""
    for field, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
        form.add_error(field if field in form.fields else None, errors)


def _found(obj: Any) -> Any:
    if obj is None:
        raise Http404
    return obj


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


# --------------------------------------------------------------------------- index, company
@login_required
def index_view(request: HttpRequest) -> HttpResponse:
    """The settings index: the sections this user may open (apps register more)."""
    _require(request, selectors.may_open_settings)
    return render(request, "setup/index.html", {"sections": settings_sections_for(request.user)})


@login_required
def company_view(request: HttpRequest) -> HttpResponse:
    """Company data: name, address, logo and the imprint and privacy links used in mails."""
    _require(request, selectors.settings_admin)
    company = selectors.company_get()
    initial = {f: getattr(company, f) for f in services.COMPANY_FIELDS} if company else {}
    form = CompanyLogoForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "logo"}
        try:
            services.company_save(actor=request.user, data=data, logo=form.cleaned_data.get("logo"))
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Company data saved."))
            return redirect("settings:company")
    return render(request, "setup/company.html", {"form": form, "company": company})


def logo_view(request: HttpRequest) -> FileResponse:
    """The company logo (public: mails show it)."""
    company = selectors.company_get()
    if company is None or not company.logo:
        raise Http404
    return FileResponse(company.logo.open("rb"))


# --------------------------------------------------------------------------- business hours
@login_required
def calendars_view(request: HttpRequest) -> HttpResponse:
    """The business calendars with their weekly hours and the state's holidays."""
    _require(request, selectors.settings_lead)
    return render(
        request, "setup/calendars.html", {"calendars": service_selectors.calendars_list()}
    )


@login_required
def calendar_create_view(request: HttpRequest) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return _calendar_form(request, None)


@login_required
def calendar_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return _calendar_form(request, _found(service_selectors.calendar_get(pk)))


def _calendar_form(request: HttpRequest, calendar: Any) -> HttpResponse:
    form = CalendarForm(request.POST or None, initial=CalendarForm.initial_for(calendar))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service_services.calendar_save(
                actor=request.user,
                calendar=calendar,
                name=data["name"],
                state=data["state"],
                timezone=data["timezone"],
                opening_hours=data["opening_hours"],
                closed_days=data["closed_days"],
            )
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Business hours saved."))
            return redirect("settings:calendars")
    state = form["state"].value() or ""
    year = timezone.localdate().year
    return render(
        request,
        "setup/calendar_form.html",
        {
            "form": form,
            "calendar": calendar,
            "holidays": service_selectors.holidays_of(
                state=state, year=year, language=get_language() or "de"
            ),
            "year": year,
        },
    )


# --------------------------------------------------------------------------- queues
def _desk_users() -> list[Any]:
    return [
        u
        for u in core_selectors.users_list(active=True)
        if {g.name for g in u.groups.all()} & DESK_ROLES
    ]


@login_required
def queues_view(request: HttpRequest) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return render(request, "setup/queues.html", {"queues": service_selectors.queues_list()})


@login_required
def queue_create_view(request: HttpRequest) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return _queue_form(request, None)


@login_required
def queue_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return _queue_form(request, _found(service_selectors.queue_get(pk)))


def _queue_form(request: HttpRequest, queue: Any) -> HttpResponse:
    users = _desk_users()
    initial = (
        {
            "name": queue.name,
            "calendar": str(queue.calendar_id or ""),
            "partner": str(queue.partner_id or ""),
            "members": [str(m.pk) for m in queue.members.all()],
        }
        if queue
        else {}
    )
    form = QueueForm(
        request.POST or None,
        initial=initial,
        calendars=service_selectors.calendars_list(),
        partners=core_selectors.partners_list(),
        users=users,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_pk = {str(u.pk): u for u in users}
        try:
            service_services.queue_save(
                actor=request.user,
                queue=queue,
                name=data["name"],
                calendar=service_selectors.calendar_get(data["calendar"])
                if data["calendar"]
                else None,
                team=queue.team if queue else None,
                partner=core_selectors.partner_get(data["partner"]) if data["partner"] else None,
                members=[by_pk[pk] for pk in data["members"]],
            )
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Queue saved."))
            return redirect("settings:queues")
    title = _("Edit queue") if queue else _("New queue")
    return render(
        request, "setup/form.html", {"form": form, "title": title, "back": "settings:queues"}
    )


# --------------------------------------------------------------------------- SLA policies
@login_required
def sla_view(request: HttpRequest) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return render(
        request,
        "setup/sla.html",
        {
            "policies": service_selectors.sla_policies_list(),
            "priorities": dict(service_selectors.priority_choices()),
        },
    )


@login_required
def sla_create_view(request: HttpRequest) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return _sla_form(request, None)


@login_required
def sla_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return _sla_form(request, _found(service_selectors.sla_policy_get(pk)))


def _sla_form(request: HttpRequest, policy: Any) -> HttpResponse:
    fields = (
        "name",
        "value_class",
        "priority",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
    )
    initial = {f: getattr(policy, f) for f in fields} if policy else {}
    if policy:
        initial["queue"] = str(policy.queue_id or "")
    form = SLAPolicyForm(
        request.POST or None,
        initial=initial,
        queues=service_selectors.queues_list(),
        priorities=service_selectors.priority_choices(),
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        queue_pk = data.pop("queue")
        try:
            service_services.sla_policy_save(
                actor=request.user,
                policy=policy,
                queue=service_selectors.queue_get(queue_pk) if queue_pk else None,
                **data,
            )
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("SLA policy saved."))
            return redirect("settings:sla")
    return render(
        request,
        "setup/form.html",
        {
            "form": form,
            "title": _("Edit SLA policy") if policy else _("New SLA policy"),
            "back": "settings:sla",
            "delete_url": "settings:sla_delete" if policy else None,
            "obj": policy,
        },
    )


@login_required
@require_POST
def sla_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, selectors.settings_lead)
    policy = _found(service_selectors.sla_policy_get(pk))
    service_services.sla_policy_delete(actor=request.user, policy=policy)
    messages.success(request, _("SLA policy deleted."))
    return redirect("settings:sla")


# --------------------------------------------------------------------------- reply templates
@login_required
def templates_view(request: HttpRequest) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return render(
        request, "setup/templates.html", {"templates": service_selectors.reply_templates_list()}
    )


@login_required
def template_create_view(request: HttpRequest) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return _template_form(request, None)


@login_required
def template_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, selectors.settings_lead)
    return _template_form(request, _found(service_selectors.reply_template_get(pk)))


def _template_form(request: HttpRequest, template: Any) -> HttpResponse:
    initial = (
        {f: getattr(template, f) for f in ("name", "language", "body", "active")}
        if template
        else {"language": get_language() or "de", "active": True}
    )
    form = ReplyTemplateForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if "preview" in request.POST:
                preview = service_services.template_preview(body=data["body"])
            else:
                service_services.reply_template_save(actor=request.user, template=template, **data)
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            if preview is None:
                messages.success(request, _("Reply template saved."))
                return redirect("settings:templates")
    return render(
        request,
        "setup/template_form.html",
        {"form": form, "template": template, "preview": preview},
    )


# --------------------------------------------------------------------------- users
@login_required
def users_view(request: HttpRequest) -> HttpResponse:
    _require(request, selectors.settings_admin)
    rows = [
        {
            "user": u,
            "roles": [str(ROLE_LABELS.get(g.name, g.name)) for g in u.groups.all()],
            "profile": getattr(u, "profile", None),
        }
        for u in core_selectors.users_list()
    ]
    return render(request, "setup/users.html", {"rows": rows})


@login_required
def user_invite_view(request: HttpRequest) -> HttpResponse:
    """Invite a colleague: the user gets roles and a mail with the link to choose a password."""
    _require(request, selectors.settings_admin)
    form = InviteForm(request.POST or None, partners=core_selectors.partners_list())
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["partner"] = core_selectors.partner_get(data["partner"]) if data["partner"] else None
        try:
            invitation = services.colleague_invite(
                actor=request.user, base_url=_base_url(request), **data
            )
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            return render(request, "setup/link.html", {"invitation": invitation, "invited": True})
    return render(
        request,
        "setup/form.html",
        {"form": form, "title": _("Invite a colleague"), "back": "settings:users"},
    )


@login_required
def user_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A user's roles, partner and goodwill limit, with deactivate and reset password."""
    _require(request, selectors.settings_admin)
    user = _found(core_selectors.user_get(pk))
    profile = getattr(user, "profile", None)
    form = UserRolesForm(
        request.POST or None,
        partners=core_selectors.partners_list(),
        initial={
            "roles": [g.name for g in user.groups.all()],
            "partner": str(profile.partner_id or "") if profile else "",
            "goodwill_limit": profile.goodwill_limit if profile else None,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            core_services.user_roles_set(
                actor=request.user,
                user=user,
                roles=data["roles"],
                partner=core_selectors.partner_get(data["partner"]) if data["partner"] else None,
                goodwill_limit=data["goodwill_limit"],
            )
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Roles saved."))
            return redirect("settings:users")
    return render(request, "setup/user_form.html", {"form": form, "person": user})


@login_required
@require_POST
def user_active_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, selectors.settings_admin)
    user = _found(core_selectors.user_get(pk))
    active = request.POST.get("active") == "1"
    try:
        core_services.user_active_set(actor=request.user, user=user, active=active)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            (_("%(user)s can log in again.") if active else _("%(user)s is deactivated."))
            % {"user": user.get_username()},
        )
    return redirect("settings:user", pk=user.pk)


@login_required
@require_POST
def user_password_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, selectors.settings_admin)
    user = _found(core_selectors.user_get(pk))
    try:
        invitation = services.colleague_password_reset(
            actor=request.user, user=user, base_url=_base_url(request)
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("settings:user", pk=user.pk)
    return render(request, "setup/link.html", {"invitation": invitation, "invited": False})


# --------------------------------------------------------------------------- mail accounts
@login_required
def mail_accounts_view(request: HttpRequest) -> HttpResponse:
    """Incoming mailboxes and the outgoing SMTP server, each with a connection test."""
    _require(request, selectors.settings_admin)
    outgoing = channels_selectors.outgoing_server_get()
    return render(
        request,
        "setup/mail_accounts.html",
        {
            "mailboxes": channels_selectors.mailboxes_list(),
            "outgoing": outgoing if outgoing is not None and outgoing.host else None,
            "email_host": f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
        },
    )


@login_required
def mailbox_create_view(request: HttpRequest) -> HttpResponse:
    _require(request, selectors.settings_admin)
    return _mailbox_form(request, None)


@login_required
def mailbox_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, selectors.settings_admin)
    return _mailbox_form(request, _found(channels_selectors.mailbox_get(pk)))


def _keep_typed_password(form: Any) -> None:
    """Show a bound form's typed password again (after a test or a refusal of that POST).

    Only what the browser just sent; the stored password never goes to the page.
    """
    if form.is_bound:
        form.fields["password"].widget.render_value = True


def _mailbox_form(request: HttpRequest, mailbox: Any) -> HttpResponse:
    form = MailboxForm(
        request.POST or None,
        initial=MailboxForm.initial_for(mailbox),
        queues=service_selectors.queues_list(),
        has_password=bool(mailbox and mailbox.has_stored_password),
    )
    check = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        queue_pk = data.pop("queue")
        data["queue"] = service_selectors.queue_get(queue_pk) if queue_pk else None
        data["clear_password"] = bool(data.get("clear_password"))
        try:
            if "test" in request.POST:
                check = channels_services.mailbox_test(mailbox=mailbox, **data)
            else:
                saved = channels_services.mailbox_save(actor=request.user, mailbox=mailbox, **data)
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            if check is None:
                messages.success(request, _("Mailbox %(name)s saved.") % {"name": saved.name})
                return redirect("settings:mail_accounts")
    _keep_typed_password(form)
    return render(
        request,
        "setup/mail_form.html",
        {
            "form": form,
            "check": check,
            "mailbox": mailbox,
            "title": mailbox.name if mailbox else _("New mailbox"),
        },
    )


@login_required
@require_POST
def mailbox_active_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, selectors.settings_admin)
    mailbox = _found(channels_selectors.mailbox_get(pk))
    active = request.POST.get("active") == "1"
    channels_services.mailbox_active_set(actor=request.user, mailbox=mailbox, active=active)
    messages.success(
        request,
        (
            _("%(name)s is fetched again.")
            if active
            else _("%(name)s is deactivated: it is no longer fetched.")
        )
        % {"name": mailbox.name},
    )
    return redirect("settings:mailbox", pk=mailbox.pk)


def _report(request: HttpRequest, check: Any, prefix: str) -> None:
    (messages.success if check.ok else messages.error)(request, f"{prefix}: {check.message}")


@login_required
@require_POST
def mailbox_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Test a saved mailbox as the poller will; the result comes as a message on the list."""
    _require(request, selectors.settings_admin)
    mailbox = _found(channels_selectors.mailbox_get(pk))
    _report(request, channels_services.mailbox_connection_test(mailbox=mailbox), mailbox.name)
    return redirect("settings:mail_accounts")


@login_required
def outgoing_view(request: HttpRequest) -> HttpResponse:
    """The SMTP server of the outbox: save, or test what is typed (nothing saved)."""
    _require(request, selectors.settings_admin)
    server = channels_selectors.outgoing_server_get()
    form = OutgoingServerForm(
        request.POST or None,
        initial=OutgoingServerForm.initial_for(server),
        has_password=bool(server and server.has_stored_password),
    )
    check = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["clear_password"] = bool(data.get("clear_password"))
        try:
            if "test" in request.POST:
                check = channels_services.outgoing_server_test(**data)
            else:
                channels_services.outgoing_server_save(actor=request.user, **data)
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            if check is None:
                messages.success(request, _("Outgoing mail server saved."))
                return redirect("settings:mail_accounts")
    _keep_typed_password(form)
    return render(
        request,
        "setup/mail_form.html",
        {
            "form": form,
            "check": check,
            "title": _("Outgoing mail (SMTP)"),
            "email_host": f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
            "outgoing": True,
        },
    )


@login_required
@require_POST
def outgoing_test_view(request: HttpRequest) -> HttpResponse:
    """Test the saved SMTP server as the outbox will; the result comes as a message."""
    _require(request, selectors.settings_admin)
    _report(request, channels_services.outgoing_server_connection_test(), _("Outgoing mail"))
    return redirect("settings:mail_accounts")


# --------------------------------------------------------------------------- first run
WIZARD_KEY = "stammkunde_first_run"
STEPS = ("company", "admin", "queue", "mail")
STEP_TITLES = {
    "company": _("Your company"),
    "admin": _("Your login"),
    "queue": _("Your first queue"),
    "mail": _("Your service e-mail address"),
}


def welcome_view(request: HttpRequest) -> HttpResponse:
    """The first-run wizard: company, first admin, one queue, mail (skippable); then home.

    Each step is checked when it is sent and kept in the session (the password
    only as its hash); the last step writes everything in one transaction. Once
    any user exists the wizard is over: it sends to the start page.
    """
    if core_selectors.any_user_exists():
        return redirect("home")
    state: dict[str, Any] = request.session.get(WIZARD_KEY) or {"step": "company"}
    step = state.get("step", "company")
    if request.method == "POST" and request.POST.get("back") and step != "company":
        state["step"] = STEPS[STEPS.index(step) - 1]
        request.session[WIZARD_KEY] = state
        return redirect("settings:welcome")
    form_class: Any = {
        "company": FirstRunCompanyForm,
        "admin": FirstAdminForm,
        "queue": FirstQueueForm,
        "mail": FirstMailForm,
    }[step]
    skip = request.method == "POST" and step == "mail" and "skip" in request.POST
    form = form_class(None if skip else (request.POST or None), initial=state.get(step + "_form"))
    if request.method == "POST" and (skip or form.is_valid()):
        data = {} if skip else dict(form.cleaned_data)
        try:
            done = _wizard_step(request, state, step, data)
        except ApplicationError as exc:
            _form_errors(form, exc)
        else:
            if done is not None:
                return done
            return redirect("settings:welcome")
    return render(
        request,
        "setup/welcome.html",
        {
            "form": form,
            "step": step,
            "number": STEPS.index(step) + 1,
            "steps": len(STEPS),
            "title": STEP_TITLES[step],
        },
    )


def _wizard_step(
    request: HttpRequest, state: dict[str, Any], step: str, data: dict[str, Any]
) -> HttpResponse | None:
    """Check one step and go on; the last one writes all and logs the new admin in."""
    if step == "company":
        region = data.pop("state", "")
        state["company"] = services.first_run_company_check(data=data, state=region)
        state["state"] = region
        state["company_form"] = {**data, "state": region}
    elif step == "admin":
        state["admin"] = services.first_admin_check(
            username=data["username"],
            email=data["email"],
            password=data["password"],
            first_name=data["first_name"],
            last_name=data["last_name"],
        )
        state["admin_form"] = {k: v for k, v in data.items() if k != "password"}
    elif step == "queue":
        state["queue"] = data["queue_name"].strip()
        state["queue_form"] = data
    else:
        company = dict(state["company"])
        if data.get("email"):
            company["email"] = data["email"]
        admin = services.first_run_complete(
            run=services.FirstRun(
                company=company,
                state=state.get("state", ""),
                admin=state["admin"],
                queue_name=state["queue"],
            )
        )
        request.session.pop(WIZARD_KEY, None)
        auth_login(request, admin, backend="stammkunde.core.backends.RoleModelBackend")
        messages.success(request, _("Stammkunde is set up. Welcome!"))
        return redirect("home")
    state["step"] = STEPS[STEPS.index(step) + 1]
    request.session[WIZARD_KEY] = state
    return None

"""The access matrix: every route × every role × an own, a foreign and nobody's object.

Routes come from Django's resolver (the DRF router's routes included), so a new
view is probed without anyone adding it here; the expected answer comes from the
one table ``core.roles.ROUTE_ACCESS``. The data is built once and every
(route, role, object) is asked in one test, which lists every violation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from email import message_from_bytes, policy
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin as django_admin
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from stammkunde.core.models import ServicePartner
from stammkunde.core.roles import (
    ADMIN,
    ALL_ROLES,
    PARTNER_AGENT,
    PARTNER_SCOPED_KINDS,
    ROUTE_ACCESS,
    RouteAccess,
)
from stammkunde.core.services import user_create

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
OWN, FOREIGN, NOBODY, ANY = "own", "foreign", "nobody", "any"
# Path parameters that name the route's object; the others get fixed values.
OBJECT_PARAMS = {"pk", "id", "customer_id", "ticket_id", "customer_pk", "partner_id", "object_id"}
FIXED_PARAMS = {
    "index": "1",
    "token": "not-a-valid-token",
    "uidb64": "MQ",  # user 1 in a reset link; with the made-up token it is refused
    "which": "json",
    "app_label": "core",
    "url": "nope/",
}


def _self_service_token(world: Any) -> str:
    from stammkunde.loyalty.models import LoyaltyAccount
    from stammkunde.loyalty.services import self_service_token

    return self_service_token(LoyaltyAccount.objects.get(pk=world["account"][ANY]))


def _invitation_token(world: Any) -> str:
    from stammkunde.feedback.models import Invitation
    from stammkunde.feedback.tokens import token_for

    invitation = Invitation.objects.order_by("pk").first()
    assert invitation is not None, "the matrix data has no survey invitation"
    return token_for(invitation.key)


# Public pages opened by a signed link: probed with a real one (a made-up token is a 404).
SIGNED_LINKS = {
    "loyalty:self_service": _self_service_token,
    "loyalty:card_print": _self_service_token,
    "feedback:answer": _invitation_token,
}
# Routes that serve a file the matrix data does not have (a finished export, an import
# report, an evaluation): a role the table allows gets 404 there, any other role still
# must be refused.
NO_FILE_404 = {
    "dataio:job_report",
    "dataio:export_download",
    "privacy:export_download",
    "campaign-evaluation",
    "settings:logo",  # the company logo: none uploaded in the matrix data
}


# --------------------------------------------------------------------------- routes
@dataclass(frozen=True)
class Route:
    key: str  # the URL name, or the path for unnamed routes
    path: str  # the route as written, for messages
    params: tuple[str, ...]
    is_api: bool
    write_methods: tuple[str, ...]  # DRF actions that change something

    @property
    def is_admin(self) -> bool:
        """Django's admin site: one route family, every view behind ``is_staff``."""
        return self.key.startswith(("admin:", "/admin/"))

    def url(self, values: dict[str, str]) -> str:
        if not self.key.startswith("/"):
            return reverse(self.key, kwargs={p: values[p] for p in self.params})
        path = self.path
        for name in self.params:
            path = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", values[name], path)
        return "/" + path.replace("^", "").replace("$", "")


def _walk(patterns: list[Any], prefix: str = "", ns: str = "") -> Iterator[tuple[str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (p, ns)


def all_routes() -> list[Route]:
    """Every route of the resolver once (format-suffix twins of DRF routes left out)."""
    found: dict[str, Route] = {}
    for path, (pattern, ns) in _walk(get_resolver().url_patterns):
        params = tuple(pattern.pattern.regex.groupindex)
        if "format" in params:
            continue  # the same view as its twin without ``.json``
        key = f"{ns}:{pattern.name}".lstrip(":") if pattern.name else "/" + path
        callback = pattern.callback
        actions = getattr(callback, "actions", None) or {}
        writes = tuple(m for m in ("post", "put", "patch", "delete") if m in actions)
        if getattr(callback, "cls", None) is not None and not actions:
            writes = ("post",)
        if key.startswith(("admin:", "/admin/")):
            writes = ("post",)  # every admin view takes a form; refused ones must write nothing
        found.setdefault(
            key,
            Route(key, path, params, getattr(callback, "cls", None) is not None, writes),
        )
    return list(found.values())


def access_for(key: str) -> RouteAccess | None:
    if key in ROUTE_ACCESS:
        return ROUTE_ACCESS[key]
    wild = [k for k in ROUTE_ACCESS if k.endswith("*") and key.startswith(k[:-1])]
    return ROUTE_ACCESS[max(wild, key=len)] if wild else None


def test_every_router_route_is_seen_by_the_resolver_walk() -> None:
    from stammkunde.api_urls import router

    walked = {r.key for r in all_routes()}
    router_names = {u.name for u in router.urls if u.name}
    assert router_names and router_names <= walked


def test_every_route_is_in_the_access_table() -> None:
    missing = sorted(r.key for r in all_routes() if access_for(r.key) is None)
    assert not missing, (
        "routes missing from core.roles.ROUTE_ACCESS (add who may use them):\n  "
        + "\n  ".join(missing)
    )


def test_the_access_table_names_no_route_that_is_gone() -> None:
    keys = {r.key for r in all_routes()}
    stale = sorted(
        k
        for k in ROUTE_ACCESS
        if not (k in keys or (k.endswith("*") and any(x.startswith(k[:-1]) for x in keys)))
    )
    assert not stale, f"entries in ROUTE_ACCESS without a route: {stale}"


# --------------------------------------------------------------------------- data
def _partner_world(partner: ServicePartner | None, tag: str, agent: Any) -> dict[str, int]:
    """A customer with a ticket (mail, attachment, reply, goodwill) in ``partner``'s queue."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from stammkunde.channels.models import InboundMessage, OutboxMessage
    from stammkunde.channels.services import mail_ingest
    from stammkunde.customers.services import address_save, contact_person_add
    from stammkunde.service import services as service_services
    from stammkunde.service.models import Ticket
    from tests.channels.conftest import mail
    from tests.commerce.factories import order
    from tests.customers.factories import CustomerFactory
    from tests.service.factories import queue

    customer = CustomerFactory(
        first_name=f"Matrix{tag}", kind="company", company_name=f"Matrix {tag} GmbH"
    )
    address_save(
        actor=None,
        customer=customer,
        data={"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin"},
    )
    contact_person_add(actor=None, customer=customer, name=f"Kontakt {tag}")
    order(customer, f"M-{tag}")
    q = queue(f"Queue {tag}", partner=partner)
    raw = message_from_bytes(
        mail(sender=f"matrix{tag}@example.de", message_id=f"<matrix-{tag}@example.de>"),
        policy=policy.default,
    )
    raw.add_attachment(b"%PDF-1.4 y", maintype="application", subtype="pdf", filename="a.pdf")
    result = mail_ingest(raw=raw.as_bytes())
    ticket = Ticket.objects.get(pk=result.ticket_id)
    Ticket.objects.filter(pk=ticket.pk).update(queue=q, customer=customer)
    ticket.refresh_from_db()
    message = service_services.ticket_reply(actor=agent, ticket=ticket, body="Wir melden uns.")
    attachment = service_services.attachment_add(
        actor=agent,
        ticket=ticket,
        message=message,
        upload=SimpleUploadedFile("beleg.pdf", b"%PDF-1.4 x", "application/pdf"),
    )
    grant = service_services.goodwill_request(
        actor=agent, ticket=ticket, kind="credit", amount=Decimal("90"), reason="Matrix"
    )
    from django.utils import timezone

    outbox = OutboxMessage.objects.filter(ticket=ticket).first() or OutboxMessage.objects.create(
        ticket=ticket,
        sender="service@example.de",
        to=f"matrix{tag}@example.de",
        subject="Re",
        body_text="x",
        message_id=f"<o{tag}@example.de>",
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    return {
        "customer": customer.pk,
        "ticket": ticket.pk,
        "inbound": InboundMessage.objects.get(pk=result.inbound_id).pk,
        "outbox": outbox.pk,
        "attachment": attachment.pk,
        "goodwill": grant.pk,
    }


def _first(model: str) -> int:
    pk = apps.get_model(model).objects.order_by("pk").values_list("pk", flat=True).first()
    assert pk is not None, f"the matrix data has no {model}"
    return int(pk)


def build_world(users: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Objects per kind: own/foreign/nobody for partner-scoped kinds, one for the others."""
    from django.utils import timezone

    from stammkunde.dataio.models import ExportJob, ImportJob, WebhookDelivery, WebhookSubscription
    from stammkunde.feedback import services as feedback_services
    from stammkunde.feedback.models import Survey
    from stammkunde.knowledge.services import article_create
    from stammkunde.privacy import services as privacy_services
    from tests.privacy.factories import rich_customer

    agent = users["agent"]
    own_partner = users[PARTNER_AGENT].profile.partner
    foreign_partner = ServicePartner.objects.create(name="Matrix Fremd GmbH")
    third_partner = ServicePartner.objects.create(name="Matrix Dritt GmbH")
    nobody_customer = rich_customer(staff=agent)
    worlds = {
        OWN: _partner_world(own_partner, "own", agent),
        FOREIGN: _partner_world(foreign_partner, "foreign", agent),
        NOBODY: _partner_world(None, "nobody", agent),
    }
    world: dict[str, dict[str, int]] = {
        kind: {variant: worlds[variant][kind] for variant in worlds} for kind in worlds[OWN]
    }
    from tests.workforce.factories import contract

    for partner in (own_partner, foreign_partner, third_partner):
        contract(partner)
    world["partner"] = {OWN: own_partner.pk, FOREIGN: foreign_partner.pk, NOBODY: third_partner.pk}
    survey = Survey.objects.order_by("pk").first()
    assert survey is not None
    feedback_services.trigger_create(actor=None, survey=survey, event="ticket_solved")
    article_create(actor=None, title="Kette wechseln", body="So geht es.")
    from stammkunde.campaigns.models import Segment

    Segment.objects.create(name="Matrix", rules={})
    ImportJob.objects.create(kind="orders", file_name="x.csv", file_path="/nope", mode="good-rows")
    ExportJob.objects.create(kind="customers", file_format="csv")
    subscription = WebhookSubscription.objects.create(
        name="Matrix", url="https://example.org/hook", events=["order.created"]
    )
    WebhookDelivery.objects.create(
        subscription=subscription, event="order.created", payload={}, next_attempt_at=timezone.now()
    )
    request = privacy_services.request_open(
        actor=None,
        customer=nobody_customer,
        kind="access",
        channel="email",
        identity_method="Ausweis",
    )
    privacy_services.export_start(actor=None, customer=nobody_customer, request=request)
    # The admin's TOTP device (being set up), so its admin views are probed with a real one.
    apps.get_model("otp_totp.TOTPDevice").objects.create(
        user=users[ADMIN], name="authenticator", confirmed=False
    )
    _settings_world()
    if not apps.get_model("jobs.Job").objects.exists():
        apps.get_model("jobs.Job").objects.create(kind="matrix")
    for kind, model in {
        "order": "commerce.Order",
        "product": "commerce.Product",
        "account": "loyalty.LoyaltyAccount",
        "program": "loyalty.LoyaltyProgram",
        "article": "knowledge.Article",
        "survey": "feedback.Survey",
        "trigger": "feedback.Trigger",
        "response": "feedback.Response",
        "campaign": "campaigns.Campaign",
        "segment": "campaigns.Segment",
        "import_job": "dataio.ImportJob",
        "duplicate": "dataio.DuplicatePair",
        "export_job": "dataio.ExportJob",
        "delivery": "dataio.WebhookDelivery",
        "privacy_request": "privacy.PrivacyRequest",
        "privacy_export": "privacy.PrivacyExport",
        "job": "jobs.Job",
        "calendar": "service.BusinessCalendar",
        "queue": "service.Queue",
        "sla_policy": "service.SLAPolicy",
        "reply_template": "service.ReplyTemplate",
        "mailbox": "channels.Mailbox",
        "user": "auth.User",
    }.items():
        world[kind] = {ANY: _first(model)}
    return world


def _settings_world() -> None:
    """A calendar, an SLA policy, a reply template and a mailbox for the settings pages."""
    from stammkunde.service.services import setup as service_services

    service_services.calendar_save(
        actor=None,
        calendar=None,
        name="Matrix",
        state="NW",
        opening_hours={"0": [["08:00", "18:00"]]},
        closed_days=[],
    )
    service_services.sla_policy_save(
        actor=None,
        policy=None,
        name="Matrix",
        queue=None,
        value_class="C",
        priority="low",
        first_response_minutes=60,
        next_response_minutes=60,
        resolution_minutes=600,
    )
    service_services.reply_template_save(
        actor=None, template=None, name="Matrix", language="de", body="Hallo {customer_name}"
    )
    from stammkunde.channels.services import mailbox_save

    mailbox_save(actor=None, mailbox=None, name="Matrix", address="matrix@shop.example")


MISSING_PK = 987654321  # no row has it: the admin must answer it without a 500


def _admin_object(route: Route) -> int:
    """A real row of the model an admin route is about (a missing id for an empty table)."""
    name = route.key.removeprefix("admin:")
    for model in django_admin.site._registry:
        meta = model._meta
        if name.startswith(f"{meta.app_label}_{meta.model_name}_"):
            pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
            return int(pk) if pk is not None else MISSING_PK
    return MISSING_PK


def _values(route: Route, access: RouteAccess, obj_id: int | None, world: Any) -> dict[str, str]:
    values = dict(FIXED_PARAMS)
    if obj_id is not None:
        values.update(dict.fromkeys(OBJECT_PARAMS, str(obj_id)))
    if route.key in SIGNED_LINKS:
        values["token"] = SIGNED_LINKS[route.key](world)
    if "card_number" in route.params:
        from stammkunde.loyalty.models import LoyaltyAccount

        values["card_number"] = LoyaltyAccount.objects.get(pk=world["account"][ANY]).card_number
    for param, related in (("address_id", "addresses"), ("person_id", "contact_persons")):
        if param in route.params:
            from stammkunde.customers.models import Customer

            rows = getattr(Customer.objects.get(pk=obj_id), related)
            values[param] = str(rows.order_by("pk").values_list("pk", flat=True).first())
    if "content_type_id" in route.params:
        values["content_type_id"] = str(ContentType.objects.get(model="customer").pk)
        values["object_id"] = str(world["customer"][NOBODY])
    if "version" in route.params:
        import plotly

        values["version"] = plotly.__version__
    missing = set(route.params) - set(values)
    assert not missing, f"{route.key}: no value for path parameter(s) {missing}"
    return values


# --------------------------------------------------------------------------- answers
def _changes() -> int:
    """Rows written so far in this connection (to prove a refused request wrote nothing)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                "FROM pg_stat_xact_user_tables"
            )
        else:
            cursor.execute("SELECT total_changes()")
        return int(cursor.fetchone()[0])


def _to_login(response: Any) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and ("/accounts/login/" in location or "/login/" in location)


def _refused(response: Any, role: str, route: Route) -> bool:
    if route.is_admin:
        # Django's admin sends anyone without is_staff to the login (its logout: to its
        # index, which does the same).
        to_index = response.status_code == 302 and response.get("Location") == reverse(
            "admin:index"
        )
        return _to_login(response) or to_index or response.status_code in (403, 404)
    if role == ANONYMOUS:
        if route.is_api:
            return response.status_code in (401, 403)
        return _to_login(response) or response.status_code in (403, 404)
    return response.status_code in (403, 404)


def _answered(response: Any, route: Route) -> bool:
    """The route did its work (or refused the input), not the user."""
    if route.is_admin:
        # For staff the admin answers 403 on what no one may do (a read-only admin's add
        # page) and 404 or a redirect for a missing id: anything but a server error.
        return response.status_code < 500
    return (
        response.status_code < 500
        and response.status_code not in (401, 403, 404)
        and not (_to_login(response))
    )


@dataclass
class Matrix:
    checked: int = 0
    routes: int = 0
    violations: list[str] | None = None


def _expected_allowed(access: RouteAccess, role: str, variant: str) -> bool:
    if access.public:
        return True
    if role not in access.roles:
        return False
    if access.obj in PARTNER_SCOPED_KINDS and role == PARTNER_AGENT:
        return variant == OWN
    return True


def _clients(users: dict[str, Any]) -> dict[str, tuple[Client, APIClient]]:
    clients: dict[str, tuple[Client, APIClient]] = {ANONYMOUS: (Client(), APIClient())}
    for role, user in users.items():
        html = Client()
        html.force_login(user)
        api = APIClient()
        api.force_authenticate(user)
        clients[role] = (html, api)
    return clients


# The code step of the login: reached only after the password (a pending login in the
# session); without one it sends back to the login.
NEEDS_PENDING_LOGIN = {"login_code"}


def _pending_login(client: Client, user: Any) -> None:
    import time

    from stammkunde.core.account_views import PENDING_KEY

    session = client.session
    session[PENDING_KEY] = {
        "user": user.pk,
        "backend": "django.contrib.auth.backends.ModelBackend",
        "next": "/",
        "at": time.time(),
    }
    session.save()


def run_matrix(users: dict[str, Any], world: Any, record: list[str] | None = None) -> Matrix:
    matrix = Matrix(violations=[])
    clients = _clients(users)
    routes = [r for r in all_routes() if access_for(r.key) is not None]
    matrix.routes = len(routes)
    for route in routes:
        access = access_for(route.key)
        assert access is not None
        has_object = bool(OBJECT_PARAMS & set(route.params))
        if route.is_admin:
            variants = {ANY: _admin_object(route) if has_object else None}
        elif has_object:
            assert access.obj, f"{route.key} names an object: give its kind in ROUTE_ACCESS"
            variants = dict(world[access.obj])
        else:
            variants = {ANY: None}
        for variant, obj_id in variants.items():
            url = route.url(_values(route, access, obj_id, world))
            for role in (*ALL_ROLES, ANONYMOUS):
                # Rate limits (in the shared store) must not answer for the access rules.
                caches["shared"].clear()
                caches["default"].clear()
                client = clients[role][1 if route.is_api else 0]
                if route.key in NEEDS_PENDING_LOGIN:
                    _pending_login(client, users.get(role, users[ADMIN]))
                allowed = _expected_allowed(access, role, variant)
                response = client.get(url)
                matrix.checked += 1
                if record is not None:
                    record.append(f"{route.key}\t{role}\t{variant}\tGET\t{response.status_code}")
                post_only = response.status_code == 405
                problem = ""
                if response.status_code >= 500:
                    problem = "server error"
                elif allowed and not (
                    _answered(response, route)
                    or post_only
                    or (route.key in NO_FILE_404 and response.status_code == 404)
                ):
                    problem = "refused, but the table allows it"
                elif not allowed and not (_refused(response, role, route) or post_only):
                    problem = "answered, but the table refuses it"
                if problem:
                    matrix.violations.append(  # type: ignore[union-attr]
                        f"GET {url} as {role} ({variant}): {response.status_code}: {problem}"
                    )
                writes = route.write_methods or (("post",) if post_only else ())
                if allowed or not writes:
                    continue
                before = _changes()
                method = writes[0]
                response = getattr(client, method)(url, {})
                matrix.checked += 1
                if record is not None:
                    record.append(
                        f"{route.key}\t{role}\t{variant}\t{method}\t{response.status_code}"
                    )
                written = _changes() - before
                if not _refused(response, role, route) and response.status_code != 405:
                    matrix.violations.append(  # type: ignore[union-attr]
                        f"{method.upper()} {url} as {role} ({variant}): "
                        f"{response.status_code}: not refused"
                    )
                elif written:
                    matrix.violations.append(  # type: ignore[union-attr]
                        f"{method.upper()} {url} as {role} ({variant}): refused "
                        f"but {written} row(s) written"
                    )
    return matrix


def test_the_access_matrix_holds(settings: Any) -> None:
    settings.CHANNELS_SEND_IMMEDIATELY = False
    partner = ServicePartner.objects.create(name="Matrix Eigen GmbH")
    users = {
        role: user_create(
            username=f"matrix_{role}",
            password=None,
            roles=[role],
            partner=partner if role == PARTNER_AGENT else None,
        )
        for role in ALL_ROLES
    }
    world = build_world(users)
    record: list[str] | None = [] if os.environ.get("ACCESS_MATRIX_RECORD") else None
    try:
        matrix = run_matrix(users, world, record)
    finally:
        if record is not None:
            with open(os.environ["ACCESS_MATRIX_RECORD"], "w") as out:
                out.write("\n".join(record) + "\n")
    print(
        f"\naccess matrix: {matrix.routes} routes × {len(ALL_ROLES) + 1} roles "
        f"(anonymous included) × objects: {matrix.checked} requests checked, "
        f"{len(matrix.violations or [])} violations"
    )
    assert users[ADMIN].is_staff
    assert not matrix.violations, "\n".join(matrix.violations or [])

"""Demo data for the service desk: queues, SLA policies, users, templates, articles, tickets.

The history (complaints after returns, claims for defects, inquiries; most
closed, some not solved at first contact with a root cause, some breached) is
written with set-based inserts so that 5,000 customers take seconds. A
handful of recent tickets then go through the real services so that the inbox
has live work: a complaint waiting in the team queue, a reopened ticket, a
follow-up after a closed one, a goodwill request for the team lead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from stammkunde.commerce.models import Order, Return
from stammkunde.core.db import bulk_insert, next_id, sequences_reset
from stammkunde.core.models import Profile, ServicePartner
from stammkunde.core.sequences import counter_next
from stammkunde.core.services import demo_admin_ensure, user_create
from stammkunde.customers.models import Customer, Interaction
from stammkunde.customers.services import timeline_texts_summaries

from . import services, sla, timeline
from .calendar import add_working_time
from .models import (
    BusinessCalendar,
    Category,
    Macro,
    Message,
    Queue,
    ReplyTemplate,
    RootCause,
    SLAPolicy,
    Status,
    Team,
    Ticket,
)
from .services.ticket_state import ticket_number_format

DEMO_USERS = (  # username, first, last, roles
    ("lena.lead", "Lena", "Lehmann", ["team_lead"]),
    ("tom.agent", "Tom", "Albers", ["agent"]),
    ("mia.agent", "Mia", "Arslan", ["agent"]),
    ("paul.callpro", "Paul", "Peters", ["partner_agent"]),
    ("marie.marketing", "Marie", "Meyer", ["marketing"]),
    ("ali.analyst", "Ali", "Aydin", ["analyst"]),
)
CATEGORIES = ("Lieferung", "Rechnung", "Defekt", "Retoure", "Werkstatttermin", "Produktberatung")
ROOT_CAUSES = (
    ("Produktfehler", "Das Produkt war fehlerhaft (Hersteller)."),
    ("Lieferverzug Spedition", "Die Spedition hat zu spät geliefert."),
    ("Falschlieferung Lager", "Das Lager hat den falschen Artikel versendet."),
    ("Produktbeschreibung ungenau", "Die Beschreibung im Shop hat falsche Erwartungen geweckt."),
    ("Erstattung verzögert", "Die Buchhaltung hat die Erstattung zu spät ausgelöst."),
    ("Werkstatt-Terminplanung", "Termin nicht gehalten oder doppelt vergeben."),
)
# Which root causes are plausible for a category (the demo's ground truth).
LIKELY_CAUSES = {
    "Defekt": ("Produktfehler", "Produktfehler", "Produktbeschreibung ungenau"),
    "Retoure": ("Erstattung verzögert", "Falschlieferung Lager", "Produktbeschreibung ungenau"),
    "Lieferung": ("Lieferverzug Spedition", "Lieferverzug Spedition", "Falschlieferung Lager"),
    "Rechnung": ("Erstattung verzögert",),
    "Werkstatttermin": ("Werkstatt-Terminplanung", "Werkstatt-Terminplanung", "Produktfehler"),
    "Produktberatung": ("Produktbeschreibung ungenau",),
}
TEMPLATES = (
    (
        "Eingangsbestätigung",
        "de",
        "Hallo {customer_name},\n\nvielen Dank für Ihre Nachricht. "
        "Wir kümmern uns darum (Ticket {ticket_number}).\n\nViele Grüße\nIhr Service-Team",
    ),
    (
        "Eingangsbestätigung",
        "en",
        "Hello {customer_name},\n\nthank you for your message. "
        "We are on it (ticket {ticket_number}).\n\nKind regards\nYour service team",
    ),
    (
        "Reklamation angenommen",
        "de",
        "Hallo {customer_name},\n\nes tut uns leid, dass mit "
        "Ihrer Bestellung {order_number} etwas nicht stimmt. Wir haben Ihre Reklamation "
        "angenommen und senden Ihnen kostenfrei Ersatz.\n\nViele Grüße\nIhr Service-Team",
    ),
    (
        "Reklamation angenommen",
        "en",
        "Hello {customer_name},\n\nwe are sorry that something "
        "is wrong with your order {order_number}. We accept your claim and send a replacement "
        "free of charge.\n\nKind regards\nYour service team",
    ),
    (
        "Erstattung unterwegs",
        "de",
        "Hallo {customer_name},\n\nIhre Rücksendung zu Bestellung "
        "{order_number} ist eingegangen, die Erstattung ist veranlasst und in 3–5 Werktagen auf "
        "Ihrem Konto.\n\nViele Grüße\nIhr Service-Team",
    ),
    (
        "Erstattung unterwegs",
        "en",
        "Hello {customer_name},\n\nyour return for order "
        "{order_number} has arrived; the refund is on its way and reaches your account within "
        "3–5 working days.\n\nKind regards\nYour service team",
    ),
)
ARTICLES = (
    (
        "Rücksendung anmelden",
        "Shop",
        "public",
        "Rücksendungen meldet der Kunde im Kundenkonto an. Das Retourenlabel kommt per E-Mail. "
        "Die Erstattung erfolgt 3–5 Werktage nach Eingang.",
    ),
    (
        "Kette springt nach dem Kauf",
        "Werkstatt",
        "internal",
        "Meist ist die Schaltung nach den ersten 200 km nachzustellen. Kostenlose Inspektion in "
        "den ersten 6 Monaten anbieten; Termin über die Werkstatt-Queue.",
    ),
    (
        "Gewährleistung und Garantie",
        "Recht",
        "internal",
        "Gewährleistung 2 Jahre ab Übergabe; in den ersten 12 Monaten wird vermutet, dass der "
        "Mangel schon bei Übergabe bestand. Akku-Garantie des Herstellers 3 Jahre.",
    ),
    (
        "Lieferzeiten E-Bikes",
        "Shop",
        "public",
        "Lagerware 2–4 Werktage, Vormontage in der Werkstatt plus 2 Tage. Speditionslieferung "
        "mit Terminabsprache.",
    ),
)
SUBJECTS = {
    "complaint": [
        "Erstattung für Rücksendung fehlt",
        "Unfreundliche Beratung im Laden",
        "Lieferung beschädigt angekommen",
        "Rechnung doppelt belastet",
    ],
    "return": ["Rücksendung anmelden", "Helm passt nicht", "Falsche Größe geliefert"],
    "claim": [
        "Kette springt",
        "Bremse quietscht nach 2 Wochen",
        "Akku lädt nicht mehr",
        "Schaltung defekt",
    ],
    "inquiry": [
        "Lieferzeit für E-Bike?",
        "Welcher Helm passt zu mir?",
        "Werkstatttermin möglich?",
        "Gibt es das Rad in Größe L?",
    ],
}


@dataclass
class ServiceDemoResult:
    tickets: int = 0
    messages: int = 0
    users: list[str] | None = None


def _password() -> str:
    pw_file = settings.VAR_DIR / "admin_password"
    if not pw_file.exists():
        demo_admin_ensure()
    return pw_file.read_text().strip()


def _users(partner: ServicePartner) -> dict[str, Any]:
    User = get_user_model()
    password = _password()
    out = {}
    for username, first, last, roles in DEMO_USERS:
        user: Any = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                password=password,
                roles=roles,
                first_name=first,
                last_name=last,
                email=f"{username}@stammkunde.example",
                partner=partner if "partner_agent" in roles else None,
            )
        elif not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        Profile.objects.get_or_create(user=user)
        out[username] = user
    return out


def _setup() -> dict[str, Any]:
    partner, _ = ServicePartner.objects.get_or_create(
        name="CallPro GmbH",
        defaults={"price_per_ticket": Decimal("4.50"), "price_per_minute": Decimal("0.95")},
    )
    users = _users(partner)
    shop, _ = BusinessCalendar.objects.get_or_create(
        name="Laden und Werkstatt (NRW)",
        defaults={
            "state": "NW",
            "opening_hours": {str(d): [["08:00", "18:00"]] for d in range(5)}
            | {"5": [["09:00", "14:00"]]},
        },
    )
    hotline, _ = BusinessCalendar.objects.get_or_create(
        name="CallPro Hotline (BY)",
        defaults={"state": "BY", "opening_hours": {str(d): [["07:00", "21:00"]] for d in range(6)}},
    )
    team, _ = Team.objects.get_or_create(name="Service-Team", defaults={"lead": users["lena.lead"]})
    team.members.set([users["tom.agent"], users["mia.agent"]])
    callpro_team, _ = Team.objects.get_or_create(
        name="CallPro", defaults={"lead": users["lena.lead"]}
    )
    queues = {}
    for name, calendar, q_team, q_partner in (
        ("Kundenservice", shop, team, None),
        ("Retouren", shop, team, None),
        ("Werkstatt", shop, team, None),
        ("CallPro Hotline", hotline, callpro_team, partner),
    ):
        queues[name], _ = Queue.objects.get_or_create(
            name=name, defaults={"calendar": calendar, "team": q_team, "partner": q_partner}
        )
    for name in ("Kundenservice", "Retouren", "Werkstatt"):
        queues[name].members.add(users["tom.agent"], users["mia.agent"], users["lena.lead"])
    queues["CallPro Hotline"].members.add(users["paul.callpro"])
    for name, fr, nr, res, q, vc, prio in (
        ("Standard", 480, 480, 2400, None, "", ""),
        ("A-Kunden", 120, 240, 960, None, "A", ""),
        ("Dringend", 60, 120, 480, None, "", "urgent"),
        ("CallPro Hotline", 60, 240, 1440, queues["CallPro Hotline"], "", ""),
    ):
        SLAPolicy.objects.get_or_create(
            queue=q,
            value_class=vc,
            priority=prio,
            defaults={
                "name": name,
                "first_response_minutes": fr,
                "next_response_minutes": nr,
                "resolution_minutes": res,
            },
        )
    categories = {n: Category.objects.get_or_create(name=n)[0] for n in CATEGORIES}
    causes = [
        RootCause.objects.get_or_create(name=n, defaults={"description": d})[0]
        for n, d in ROOT_CAUSES
    ]
    for name, language, body in TEMPLATES:
        ReplyTemplate.objects.get_or_create(name=name, language=language, defaults={"body": body})
    first_template = ReplyTemplate.objects.get(name="Eingangsbestätigung", language="de")
    Macro.objects.get_or_create(
        name="Eingang bestätigen, warten auf Kunde",
        defaults={"template": first_template, "set_status": Status.WAITING_CUSTOMER},
    )
    Macro.objects.get_or_create(
        name="Reklamation annehmen und lösen",
        defaults={
            "template": ReplyTemplate.objects.get(name="Reklamation angenommen", language="de"),
            "set_status": Status.SOLVED,
            "add_tags": ["reklamation"],
        },
    )
    from stammkunde.knowledge.models import Article
    from stammkunde.knowledge.services import article_create

    for title, category, visibility, body in ARTICLES:
        if not Article.objects.filter(title=title).exists():
            article_create(
                actor=users["lena.lead"],
                title=title,
                body=body,
                category=category,
                visibility=visibility,
            )
    return {
        "users": users,
        "queues": queues,
        "categories": categories,
        "causes": causes,
        "partner": partner,
    }


def _history(rng: random.Random, env: dict[str, Any], end: datetime) -> tuple[int, int]:
    """Bulk-write two years of tickets from the demo shop's returns and customers."""
    queues, categories, causes = env["queues"], env["categories"], env["causes"]
    agents = [env["users"]["tom.agent"].pk, env["users"]["mia.agent"].pk]
    partner_agent = env["users"]["paul.callpro"].pk
    policies = {p.name: p for p in SLAPolicy.objects.all()}
    calendars = {q.pk: q.business_hours() for q in queues.values()}
    by_name = {c.name: c for c in causes}
    cause_by_category = {
        category: [by_name[n] for n in names] for category, names in LIKELY_CAUSES.items()
    }
    start = end - timedelta(days=730)
    returns = list(
        Return.objects.filter(
            returned_at__gte=start, returned_at__lt=end - timedelta(days=2)
        ).values_list(
            "customer_id",
            "order_line_id",
            "order_line__order_id",
            "order_line__product_id",
            "returned_at",
            "reason",
        )
    )
    customers = list(
        Customer.objects.filter(first_purchase_at__isnull=False).values_list("id", "value_class")
    )
    value_class = dict(customers)
    specs: list[dict[str, Any]] = []
    for customer_id, line_id, order_id, product_id, returned_at, reason in returns:
        if rng.random() < 0.45:
            defective = reason in ("defective", "not_as_described")
            kind = "claim" if defective else rng.choice(["return", "complaint"])
            at = (
                returned_at + timedelta(days=rng.uniform(0.5, 12))
                if kind == "complaint"
                else returned_at - timedelta(days=rng.uniform(0.5, 5))
            )
            specs.append(
                {
                    "customer": customer_id,
                    "order": order_id,
                    "order_line": line_id,
                    "product": product_id,
                    "type": kind,
                    "at": at,
                    "category": "Defekt" if defective else "Retoure",
                }
            )
    for customer_id, _vc in rng.sample(customers, k=min(len(customers), len(customers) // 6)):
        specs.append(
            {
                "customer": customer_id,
                "order": None,
                "order_line": None,
                "product": None,
                "type": rng.choice(["inquiry", "inquiry", "complaint"]),
                "at": start + timedelta(seconds=rng.uniform(0, 730 * 86400)),
                "category": rng.choice(
                    ["Lieferung", "Rechnung", "Produktberatung", "Werkstatttermin"]
                ),
            }
        )
    specs = [s for s in specs if start <= s["at"] < end - timedelta(days=3)]
    specs.sort(key=lambda s: s["at"])
    # follow-ups: a call about the same matter a few days after some solved tickets
    for spec in rng.sample(specs, k=len(specs) // 12):
        spec["followed"] = True
        specs.append(
            {
                **spec,
                "followed": False,
                "follow_up": True,
                "channel": "phone",
                "at": spec["at"] + timedelta(days=rng.uniform(1.5, 6)),
            }
        )
    specs = [s for s in specs if s["at"] < end - timedelta(days=3)]
    specs.sort(key=lambda s: s["at"])
    ticket_id = next_id(Ticket)
    numbers: dict[int, int] = {}
    rows, message_rows, interaction_rows = [], [], []
    ct = ContentType.objects.get_for_model(Ticket).pk
    for spec in specs:
        at = spec["at"]
        channel = (
            spec.get("channel")
            or rng.choices(
                ["email", "phone", "web", "shop", "letter"], [0.5, 0.3, 0.12, 0.06, 0.02]
            )[0]
        )
        queue = (
            queues["CallPro Hotline"]
            if channel == "phone" and rng.random() < 0.6
            else queues["Retouren"]
            if spec["type"] in ("return", "complaint") and spec["order_line"]
            else queues["Werkstatt"]
            if spec["type"] == "claim"
            else queues["Kundenservice"]
        )
        assignee = partner_agent if queue.partner_id else rng.choice(agents)
        vc = value_class.get(spec["customer"], "")
        policy = (
            policies["CallPro Hotline"]
            if queue.partner_id
            else (policies["A-Kunden"] if vc == "A" else policies["Standard"])
        )
        calendar = calendars[queue.pk]
        first_due = add_working_time(calendar, at, policy.first_response_minutes)
        resolution_due = add_working_time(calendar, at, policy.resolution_minutes)
        first_at = add_working_time(
            calendar, at, rng.expovariate(1 / (policy.first_response_minutes * 0.45))
        )
        fcr = not spec.get("followed") and rng.random() < 0.72
        solved_at = (
            first_at
            if fcr
            else add_working_time(
                calendar, first_at, rng.expovariate(1 / (policy.resolution_minutes * 0.5))
            )
        )
        closed_at = solved_at + timedelta(days=7)
        year = at.year
        numbers[year] = numbers.get(year, 0) + 1
        cause = None if fcr else rng.choice(cause_by_category[spec["category"]]).pk
        rows.append(
            (
                ticket_id,
                f"{year}:{numbers[year]}",
                rng.choice(SUBJECTS[spec["type"]]),
                spec["customer"],
                spec["type"],
                categories[spec["category"]].pk,
                spec["product"],
                spec["order"],
                spec["order_line"],
                channel,
                "normal",
                queue.pk,
                queue.team_id,
                assignee,
                Status.CLOSED,
                cause,
                ""
                if fcr
                else rng.choice(
                    [
                        "Ersatz geschickt",
                        "Erstattung veranlasst",
                        "Reparatur in der Werkstatt",
                        "Gutschrift erteilt",
                    ]
                ),
                fcr,
                at,
                closed_at,
                first_at,
                solved_at,
                closed_at,
                policy.pk,
                first_due,
                resolution_due,
                first_at > first_due,
                solved_at > resolution_due,
            )
        )
        message_rows.append((ticket_id, "public", "in", None, _body(spec), channel, at))
        message_rows.append(
            (
                ticket_id,
                "public",
                "out",
                assignee,
                "Vielen Dank für Ihre Nachricht, wir kümmern uns darum.",
                channel,
                first_at,
            )
        )
        if not fcr:
            message_rows.append(
                (
                    ticket_id,
                    "public",
                    "in",
                    None,
                    "Gibt es schon etwas Neues?",
                    channel,
                    first_at + (solved_at - first_at) / 2,
                )
            )
            message_rows.append(
                (
                    ticket_id,
                    "public",
                    "out",
                    assignee,
                    "Das Problem ist gelöst, danke für Ihre Geduld.",
                    channel,
                    solved_at,
                )
            )
        # The timeline entries as ``timeline_add`` writes them; the ticket number comes below.
        interaction_rows.append(
            (
                spec["customer"],
                at,
                channel,
                "in",
                "ticket_created",
                ct,
                ticket_id,
                None,
                timeline.CREATED,
                {"type": spec["type"], "subject": rows[-1][2]},
            )
        )
        interaction_rows.append(
            (
                spec["customer"],
                solved_at,
                channel,
                "out",
                "ticket_status",
                ct,
                ticket_id,
                assignee,
                timeline.STATUS,
                {"old": Status.OPEN.value, "new": Status.SOLVED.value},
            )
        )
        ticket_id += 1
    first_numbers = {year: counter_next(f"ticket-{year}", count=n) for year, n in numbers.items()}
    final_rows = []
    for row in rows:
        year, n = (int(p) for p in row[1].split(":"))
        final_rows.append(
            (row[0], ticket_number_format(year, first_numbers[year] + n - 1), *row[2:])
        )
    bulk_insert(
        Ticket,
        [
            "id",
            "number",
            "subject",
            "customer",
            "type",
            "category",
            "product",
            "order",
            "order_line",
            "channel",
            "priority",
            "queue",
            "team",
            "assignee",
            "status",
            "root_cause",
            "resolution",
            "first_contact_resolved",
            "created_at",
            "updated_at",
            "first_response_at",
            "solved_at",
            "closed_at",
            "sla_policy",
            "first_response_due",
            "resolution_due",
            "first_response_breached",
            "resolution_breached",
        ],
        final_rows,
    )
    sequences_reset(Ticket)
    bulk_insert(
        Message,
        ["ticket", "kind", "direction", "author", "body", "channel", "created_at"],
        message_rows,
    )
    number_of = {row[0]: row[1] for row in final_rows}
    entries = [(*row[:-1], {"ticket": number_of[row[6]], **row[-1]}) for row in interaction_rows]
    summaries = {
        key: iter(timeline_texts_summaries(key, [e[-1] for e in entries if e[-2] == key]))
        for key in (timeline.CREATED, timeline.STATUS)
    }
    bulk_insert(
        Interaction,
        [
            "customer",
            "occurred_at",
            "channel",
            "direction",
            "kind",
            "summary",
            "source_type",
            "source_id",
            "actor",
            "text_key",
            "text_params",
        ],
        ((*e[:5], next(summaries[e[-2]]), e[5], str(e[6]), e[7], e[-2], e[-1]) for e in entries),
    )
    return len(final_rows), len(message_rows)


def _body(spec: dict[str, Any]) -> str:
    return {
        "complaint": "Ich warte seit zwei Wochen auf meine Erstattung. Das ärgert mich sehr.",
        "return": "Ich möchte den Artikel zurückschicken, er passt leider nicht.",
        "claim": "Das Teil ist nach kurzer Zeit kaputt gegangen. Bitte um Ersatz.",
        "inquiry": "Ich habe eine Frage zu Ihrem Angebot.",
    }[spec["type"]]


def _live(rng: random.Random, env: dict[str, Any], now: datetime) -> int:
    """A few recent tickets written through the services, for the inbox and the browser."""
    users, queues, categories = env["users"], env["queues"], env["categories"]
    tom, lena = users["tom.agent"], users["lena.lead"]
    candidates = list(
        Order.objects.filter(customer__merged_into__isnull=True)
        .order_by("-ordered_at")
        .select_related("customer")[:40]
    )
    if len(candidates) < 8:
        return 0
    rng.shuffle(candidates)
    made = 0

    def create(order: Order, **kwargs: Any) -> Ticket:
        nonlocal made
        made += 1
        line = order.lines.first()
        return services.ticket_create(
            actor=None,
            customer=order.customer,
            links=services.TicketLinks(order=order, order_line=line),
            now=now - timedelta(hours=rng.uniform(0.2, 3)),
            **kwargs,
        )

    complaint = create(
        candidates[0],
        subject="Kette springt nach zwei Wochen",
        body="Hallo, die Kette an meinem neuen Rad springt ständig. Ich bin "
        "enttäuscht, das Rad war teuer.",
        type="complaint",
        category=categories["Defekt"],
        queue=queues["Kundenservice"],
        channel="email",
    )
    create(
        candidates[1],
        subject="Erstattung für Rücksendung fehlt",
        body="Meine Rücksendung ist seit zehn Tagen bei Ihnen, wo bleibt das Geld?",
        type="complaint",
        category=categories["Retoure"],
        queue=queues["Retouren"],
        channel="email",
        priority="high",
    )
    create(
        candidates[2],
        subject="Lieferzeit für E-Bike?",
        body="Wann kann das Rad da sein?",
        type="inquiry",
        category=categories["Lieferung"],
        queue=queues["CallPro Hotline"],
        channel="phone",
        assignee=users["paul.callpro"],
    )
    waiting = create(
        candidates[3],
        subject="Bremse quietscht",
        body="Die Bremse quietscht seit der Inspektion.",
        type="claim",
        category=categories["Werkstatttermin"],
        queue=queues["Werkstatt"],
        channel="web",
        assignee=tom,
    )
    services.ticket_reply(
        actor=tom,
        ticket=waiting,
        body="Können Sie uns ein Video schicken?",
        then_status=Status.WAITING_CUSTOMER,
    )
    reopened = create(
        candidates[4],
        subject="Rechnung doppelt belastet",
        body="Sie haben meine Karte zweimal belastet.",
        type="complaint",
        category=categories["Rechnung"],
        queue=queues["Kundenservice"],
        channel="email",
        assignee=tom,
    )
    services.ticket_reply(
        actor=tom,
        ticket=reopened,
        body="Die zweite Buchung ist storniert.",
        then_status=Status.SOLVED,
    )
    services.ticket_reply(
        actor=None,
        ticket=reopened,
        from_customer=True,
        body="Auf meinem Konto ist noch nichts angekommen!",
    )
    goodwill = create(
        candidates[5],
        subject="Lieferung beschädigt angekommen",
        body="Der Karton war aufgerissen, der Lack ist zerkratzt.",
        type="complaint",
        category=categories["Lieferung"],
        queue=queues["Kundenservice"],
        channel="email",
        assignee=tom,
    )
    services.ticket_reply(actor=tom, ticket=goodwill, body="Das tut uns leid, wir melden uns.")
    services.goodwill_request(
        actor=tom,
        ticket=goodwill,
        kind="voucher",
        amount=Decimal("120"),
        reason="Lackschaden bei Lieferung",
    )
    closed = create(
        candidates[6],
        subject="Helm passt nicht",
        type="return",
        body="Der Helm ist zu klein.",
        category=categories["Retoure"],
        queue=queues["Retouren"],
        channel="email",
        assignee=tom,
    )
    services.ticket_reply(
        actor=tom, ticket=closed, body="Das Retourenlabel ist unterwegs.", then_status=Status.SOLVED
    )
    services.ticket_close(actor=lena, ticket=closed, expected_version=None)
    services.ticket_reply(
        actor=None, ticket=closed, from_customer=True, body="Und wann bekomme ich das Geld zurück?"
    )
    made += 1  # the follow-up ticket
    services.ticket_reply(
        actor=tom,
        ticket=complaint,
        kind="internal",
        body="Stammkunde seit Jahren, bitte kulant sein.",
    )
    del complaint
    return made


@transaction.atomic
def service_demo_generate(*, seed: int = 1, end: datetime | None = None) -> ServiceDemoResult:
    """Add the service desk to the demo shop (idempotent: nothing happens twice)."""
    rng = random.Random(seed)
    env = _setup()
    result = ServiceDemoResult(users=[u for u, *_ in DEMO_USERS])
    if Ticket.objects.exists():
        return result
    end = end or timezone.now()
    result.tickets, result.messages = _history(rng, env, end)
    result.tickets += _live(rng, env, timezone.now())
    sla.sla_escalate(now=timezone.now())
    return result

"""The readable PDF of a data export (reportlab), in German or English.

Written line by line on a canvas rather than with platypus tables: an export
may hold 50,000 timeline entries, and a table layout of that size takes
minutes where plain wrapped lines take seconds. The standard fonts cover
German and Western European text (WinAnsi); other scripts show in the JSON.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

# Section titles per key of the collected data: (German, English).
TITLES: dict[str, tuple[str, str]] = {
    "customer": ("Stammdaten", "Master data"),
    "tags": ("Merkmale", "Tags"),
    "emails": ("E-Mail-Adressen", "E-mail addresses"),
    "phones": ("Telefonnummern", "Phone numbers"),
    "addresses": ("Anschriften", "Addresses"),
    "contact_persons": ("Ansprechpersonen", "Contact persons"),
    "consents": ("Einwilligungen mit Nachweis", "Consents with proof"),
    "timeline": ("Verlauf aller Kontakte", "Timeline of every interaction"),
    "orders": ("Bestellungen", "Orders"),
    "order_lines": ("Bestellpositionen", "Order lines"),
    "returns": ("Retouren", "Returns"),
    "subscriptions": ("Abonnements", "Subscriptions"),
    "tickets": ("Servicefälle", "Service tickets"),
    "ticket_messages": ("Nachrichten zu Servicefällen", "Ticket messages"),
    "ticket_attachments": ("Anhänge", "Attachments"),
    "goodwill": ("Kulanz", "Goodwill"),
    "inbound_mails": ("Eingegangene E-Mails (Rohdaten)", "Inbound mails (raw)"),
    "outbound_mails": ("Gesendete E-Mails", "Sent mails"),
    "contact_logs": ("Kontaktprotokolle", "Contact logs"),
    "loyalty_accounts": ("Kundenkonten im Bonusprogramm", "Loyalty accounts"),
    "points_ledger": ("Punktebuchungen", "Points ledger"),
    "stamp_cards": ("Stempelkarten", "Stamp cards"),
    "referrals": ("Empfehlungen", "Referrals"),
    "vouchers": ("Gutscheine", "Vouchers"),
    "voucher_redemptions": ("Gutscheineinlösungen", "Voucher redemptions"),
    "survey_invitations": ("Umfrage-Einladungen", "Survey invitations"),
    "survey_responses": ("Umfrage-Antworten", "Survey responses"),
    "survey_answers": ("Einzelantworten", "Survey answers"),
    "profiling_meaning": (
        "Bedeutung der Profilbildung (Art. 15 Abs. 1 lit. h)",
        "Meaning of the profiling (Art. 15(1)(h))",
    ),
    "profiling_your_reasons": (
        "Gründe für Ihre aktuelle Einschätzung",
        "Reasons for your current assessment",
    ),
    "scores": ("Bewertungen (Scores)", "Scores"),
    "phase_changes": ("Phasenwechsel", "Phase changes"),
    "analytics_events": ("Analyse-Ereignisse", "Analytics events"),
    "campaign_contacts": ("Kampagnen-Zuordnungen und Kontakte", "Campaign assignments"),
    "segment_memberships": ("Segmente", "Segment memberships"),
    "double_opt_in": ("Double-Opt-in-Nachweise", "Double opt-in records"),
    "duplicate_suspicions": ("Dubletten-Verdacht", "Duplicate suspicions"),
    "audit_entries": ("Protokoll der Zugriffe und Änderungen", "Audit entries"),
}

_HEAD = {
    "title": ("Auskunft über Ihre gespeicherten Daten", "Your personal data held by us"),
    "intro": (
        "Auskunft nach Art. 15 DSGVO. Die maschinenlesbare Fassung (Art. 20) liegt als "
        "JSON-Datei bei.",
        "Information under Art. 15 GDPR. The machine-readable copy (Art. 20) comes as a JSON file.",
    ),
    "customer": ("Kundennummer", "Customer number"),
    "generated": ("Erstellt am", "Generated at"),
    "none": ("(keine Einträge)", "(no entries)"),
}


class _Writer:
    """Wrapped lines top to bottom in one text object per page, a new page when full.

    A fixed-width font (Courier, one of the PDF standard fonts) lets lines be
    wrapped by character count: measuring every word of 100,000 lines with a
    proportional font's metrics took most of the export's time.
    """

    def __init__(self, path: Path) -> None:
        self.canvas = canvas.Canvas(str(path), pagesize=A4, invariant=1)
        self.width, self.height = A4
        self.margin = 18 * mm
        self.text: Any = None
        self.font: tuple[str, float] = ("", 0.0)
        self._page()

    def _page(self) -> None:
        if self.text is not None:
            self.canvas.drawText(self.text)
            self.canvas.showPage()
        self.text = self.canvas.beginText(self.margin, self.height - self.margin)
        self.font = ("", 0.0)
        self.y = self.height - self.margin

    def line(self, text: str, *, size: float = 7.5, bold: bool = False, indent: float = 0) -> None:
        font = "Courier-Bold" if bold else "Courier"
        per_line = max(20, int((self.width - 2 * self.margin - indent) / (0.6 * size)))
        parts = textwrap.wrap(text, per_line, break_long_words=True, break_on_hyphens=False)
        for part in parts or [""]:
            if self.y < self.margin:
                self._page()
            if self.font != (font, size):
                self.text.setFont(font, size, leading=size * 1.3)
                self.font = (font, size)
            self.text.setTextOrigin(self.margin + indent, self.y)
            self.text.textOut(part)
            self.y -= size * 1.3

    def gap(self, points: float = 6) -> None:
        self.y -= points

    def save(self) -> None:
        self.canvas.drawText(self.text)
        self.canvas.save()


def _value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


def _row_text(row: dict[str, Any], limit: int = 600) -> str:
    text = " · ".join(f"{k}: {_value(v)}" for k, v in row.items() if v not in (None, "", []))
    return text if len(text) <= limit else text[:limit] + " …"


def pdf_write(data: dict[str, Any], path: Path, *, language: str = "de") -> None:
    """Write the readable export of ``data`` (from ``customer_data_collect``) to ``path``."""
    pick = 0 if language.startswith("de") else 1
    out = _Writer(path)
    out.line(_HEAD["title"][pick], size=13, bold=True)
    out.gap()
    out.line(_HEAD["intro"][pick])
    out.line(f"{_HEAD['customer'][pick]}: {data.get('customer_number', '')}")
    out.line(f"{_HEAD['generated'][pick]}: {data.get('generated_at', '')}")
    for section in data["data"].values():
        for key, content in section.items():
            out.gap(8)
            out.line(TITLES.get(key, (key, key))[pick], size=10, bold=True)
            _content(out, content, none=_HEAD["none"][pick])
    out.save()


def _content(out: _Writer, content: Any, *, none: str) -> None:
    if isinstance(content, dict) and content and all(isinstance(v, dict) for v in content.values()):
        for name, parts in content.items():  # profiling meaning: {score: {what, inputs, use}}
            out.line(name, bold=True, indent=6)
            for text in parts.values():
                out.line(str(text), indent=12)
    elif isinstance(content, dict):
        for k, v in content.items():
            out.line(f"{k}: {_value(v)}", indent=6)
    elif isinstance(content, list) and content:
        for item in content:
            out.line(_row_text(item) if isinstance(item, dict) else _value(item), indent=6)
    elif not content:
        out.line(none, indent=6)
    else:
        out.line(_value(content), indent=6)

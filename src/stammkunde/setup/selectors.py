"""Reads of the settings app: the company record and who may open which settings."""

from __future__ import annotations

from typing import Any

from stammkunde.core.roles import ADMIN, TEAM_LEAD, has_role

from .models import Company


def settings_admin(user: Any) -> bool:
    """Company data and users: admins only."""
    return has_role(user, ADMIN)


def settings_lead(user: Any) -> bool:
    """Queues, SLA, reply templates and business hours: admins and team leads."""
    return has_role(user, ADMIN, TEAM_LEAD)


def may_open_settings(user: Any) -> bool:
    """Who sees the settings entry in the menu."""
    return settings_lead(user)


def company_get() -> Company | None:
    """The company record, or None before the first run saved it."""
    return Company.objects.filter(pk=1).first()


def company_mail_footer() -> dict[str, str]:
    """What a mail's footer shows: name, address and the imprint and privacy links."""
    company = company_get()
    if company is None:
        return {}
    address = ", ".join(
        part for part in (company.street, f"{company.postal_code} {company.city}".strip()) if part
    )
    return {
        "name": company.name,
        "address": address,
        "imprint_url": company.imprint_url,
        "privacy_url": company.privacy_url,
    }

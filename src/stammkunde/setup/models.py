"""The company behind the install: name, address, logo and the links that mails carry."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Company(models.Model):
    """One row (pk 1): who runs this Stammkunde, as customers see it in mails and pages."""

    name = models.CharField(
        _("company name"), max_length=200, help_text=_("As customers know it, e.g. Radhaus Müller.")
    )
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(
        _("service e-mail address"),
        blank=True,
        help_text=_("Customers write here; replies are sent from it."),
    )
    imprint_url = models.URLField(
        _("imprint link"), blank=True, help_text=_("The page with your legal notice (Impressum).")
    )
    privacy_url = models.URLField(
        _("privacy policy link"), blank=True, help_text=_("The page with your privacy policy.")
    )
    logo = models.FileField(_("logo"), upload_to="company/", blank=True, max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("company")

    def __str__(self) -> str:
        return self.name

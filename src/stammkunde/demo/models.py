from __future__ import annotations

from django.db import models

from stammkunde.customers.models import Customer


class CustomerTruth(models.Model):
    """What the demo generator knows and analytics must find: the true buying process."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="demo_truth"
    )
    purchase_rate_per_year = models.FloatField()
    dropout_probability = models.FloatField()
    dropped_out_at = models.DateTimeField(null=True, blank=True)
    observation_end = models.DateTimeField()

    def __str__(self) -> str:
        return f"truth for {self.customer_id}"

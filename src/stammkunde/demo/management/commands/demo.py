from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from stammkunde.campaigns.demo import campaigns_demo_generate
from stammkunde.customers.models import Customer
from stammkunde.demo.generator import default_end, demo_generate
from stammkunde.feedback.demo import feedback_demo_generate
from stammkunde.loyalty.demo import loyalty_demo_generate
from stammkunde.service.demo import service_demo_generate
from stammkunde.workforce.demo import workforce_demo_generate


class Command(BaseCommand):
    help = (
        "Load the demo shop: customers with purchases, returns, subscriptions and a ground truth."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--end", help="observation end YYYY-MM-DD (default: today)")
        parser.add_argument("--years", type=float, default=3.0)
        parser.add_argument("--chunk-size", type=int, default=20_000)
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when customers exist already"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["customers"] < 1:
            raise CommandError("--customers must be at least 1")
        if not 0.25 <= opts["years"] <= 20:
            raise CommandError("--years must be between 0.25 and 20")
        if opts["if_empty"] and Customer.objects.exists():
            self.stdout.write("Demo data present; nothing loaded.")
            return
        end = default_end()
        if opts["end"]:
            try:
                end = datetime.strptime(opts["end"], "%Y-%m-%d").replace(
                    hour=23, minute=59, second=59, tzinfo=UTC
                )
            except ValueError as exc:
                raise CommandError(f"--end: {exc}") from exc
        with tqdm(total=opts["customers"], unit="customers", disable=None) as bar:
            result = demo_generate(
                customers=opts["customers"],
                seed=opts["seed"],
                end=end,
                years=opts["years"],
                chunk_size=opts["chunk_size"],
                on_progress=bar.update,
            )
        loyalty = loyalty_demo_generate(seed=opts["seed"], end=end)
        self.stdout.write(f"Loyalty: {loyalty.accounts} members, {loyalty.entries} points entries")
        workforce_demo_generate(seed=opts["seed"])
        service = service_demo_generate(seed=opts["seed"], end=end)
        self.stdout.write(f"Service desk: {service.tickets} tickets, {service.messages} messages")
        feedback = feedback_demo_generate(seed=opts["seed"], end=end)
        self.stdout.write(f"Feedback: {feedback.responses} survey responses")
        campaigns_demo_generate(seed=opts["seed"], end=end)
        self.stdout.write(
            f"Demo shop: {result.customers} customers, {result.orders} orders, "
            f"{result.order_lines} order lines, {result.returns} returns, "
            f"{result.subscriptions} subscriptions in {result.seconds:.1f} s "
            f"({result.customers_per_second:,.0f} customers/s)"
        )

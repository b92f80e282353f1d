"""One importer per kind: which fields a row has, how a batch is checked and handed on.

``common`` holds what they share; each kind's module checks a batch against
the rules of the owning app's single write and hands it to that app's bulk
service (see ``common``'s docstring and docs/data-in-out.md).
"""

from .common import (
    CENT,
    CUSTOMER_CACHE_MAX,
    MONEY_LIMIT,
    QUANTITY_LIMIT,
    BatchOutcome,
    Context,
    FieldSpec,
    Importer,
    Row,
    RowIssue,
    normalize_header,
)
from .customers import CustomerImporter
from .orders import OrderImporter
from .products import ProductImporter
from .returns import ReturnImporter
from .subscriptions import SubscriptionImporter

IMPORTERS: dict[str, type[Importer]] = {
    i.kind: i
    for i in (
        CustomerImporter,
        ProductImporter,
        OrderImporter,
        ReturnImporter,
        SubscriptionImporter,
    )
}

__all__ = [
    "CENT",
    "CUSTOMER_CACHE_MAX",
    "IMPORTERS",
    "MONEY_LIMIT",
    "QUANTITY_LIMIT",
    "BatchOutcome",
    "Context",
    "CustomerImporter",
    "FieldSpec",
    "Importer",
    "OrderImporter",
    "ProductImporter",
    "ReturnImporter",
    "Row",
    "RowIssue",
    "SubscriptionImporter",
    "normalize_header",
]

"""Every loyalty rule: earning, redeeming, expiry, returns, vouchers, tiers, referrals.

The public face of the loyalty app for writes. The rules live in one module per
use case; their public names are re-exported here once, so callers write
``from stammkunde.loyalty import services`` and ``services.points_earn(...)``:

- ``points``: earn, redeem, adjust, expire, take back on returns, bonuses;
- ``orders``: what an order earns (points, first purchase, referrals, stamps);
- ``tiers``: the qualifying value, upgrades and the yearly review;
- ``vouchers``: issue, batches, quote and use;
- ``goodwill``: points and vouchers within a goodwill limit, ticket pay-outs;
- ``checkout``: the two-phase till checkout (quote, then commit);
- ``accounts``: programs, enrolment, self-service links, erasure;
- ``rules``: the settings page's programme rules (points per euro, expiry, tiers).

``_ledger`` is the one place that appends to the points ledger (see its
docstring for the locking pattern and the invariants); ``_common`` holds the
validation helpers the modules share.
"""

from ._common import (
    CENT,
    MAX_POINTS_PER_BOOKING,
    Booking,
    Kind,
    amount_parse,
    points_parse,
    points_value,
)
from ._ledger import expiry_date
from .accounts import (
    SELF_SERVICE_MAX_AGE,
    account_enroll,
    customer_data_erase,
    program_configure,
    program_default,
    self_service_account_id,
    self_service_token,
)
from .bulk import points_accrue_for_orders, points_reverse_for_returns  # noqa: F401
from .checkout import (
    QUOTE_MAX_AGE_SECONDS,
    CheckoutQuote,
    CheckoutResult,
    checkout_commit,
    checkout_quote,
)
from .goodwill import (
    goodwill_grant_pay_out,
    goodwill_limit_for,
    points_goodwill_grant,
    voucher_goodwill_issue,
)
from .orders import points_accrue_for_order
from .points import (
    birthday_bonuses_award,
    points_adjust,
    points_bonus_award,
    points_earn,
    points_expire,
    points_redeem,
    points_reverse_for_return,
)
from .rules import (
    EXPIRY_YEARS_MAX,
    PROGRAM_RULE_FIELDS,
    TIER_FIELDS,
    program_rules_save,
    program_update,
    tier_delete,
    tier_save,
)
from .tiers import tier_qualifying_value, tier_recalculate, tiers_review
from .vouchers import (
    VoucherQuote,
    VoucherUse,
    voucher_batch_create,
    voucher_issue,
    voucher_quote,
    voucher_redeem,
)

__all__ = [
    "CENT",
    "EXPIRY_YEARS_MAX",
    "MAX_POINTS_PER_BOOKING",
    "PROGRAM_RULE_FIELDS",
    "QUOTE_MAX_AGE_SECONDS",
    "SELF_SERVICE_MAX_AGE",
    "TIER_FIELDS",
    "Booking",
    "CheckoutQuote",
    "CheckoutResult",
    "Kind",
    "VoucherQuote",
    "VoucherUse",
    "account_enroll",
    "amount_parse",
    "birthday_bonuses_award",
    "checkout_commit",
    "checkout_quote",
    "customer_data_erase",
    "expiry_date",
    "goodwill_grant_pay_out",
    "goodwill_limit_for",
    "points_accrue_for_order",
    "points_adjust",
    "points_bonus_award",
    "points_earn",
    "points_expire",
    "points_goodwill_grant",
    "points_parse",
    "points_redeem",
    "points_reverse_for_return",
    "points_value",
    "program_configure",
    "program_default",
    "program_rules_save",
    "program_update",
    "self_service_account_id",
    "self_service_token",
    "tier_delete",
    "tier_qualifying_value",
    "tier_recalculate",
    "tier_save",
    "tiers_review",
    "voucher_batch_create",
    "voucher_goodwill_issue",
    "voucher_issue",
    "voucher_quote",
    "voucher_redeem",
]

"""Reads of campaigns: audiences, eligibility (consent and restraint), features, next best action.

The public face of the campaigns app for reads; one module per subject, the
public names re-exported here once (``from stammkunde.campaigns import
selectors``):

- ``lists``: campaigns, segments and evaluations a user may see, audiences;
- ``eligibility``: who may be contacted on which channel (see its docstring:
  eligibility is decided there and nowhere else);
- ``features``: the uplift model's features and customer values;
- ``next_best``: the next best action per customer;
- ``contacts``: the contact log, delivery state, costs and call tasks;
- ``plan``: the send plan, its signed token and the preview.
"""

from ._common import (
    CHANNELS,
    COUNTED,
    DOI_MARK,
    cap_window_days,
    contact_cap,
    default_value,
    min_gap_days,
)
from .contacts import (
    DELIVERED,
    DELIVERY_LABELS,
    PENDING_STATES,
    call_tasks_filter,
    campaign_call_tasks,
    campaign_contacts_summary,
    campaign_cost_committed,
    campaign_send_job,
    contact_delivery,
    customer_data_export,
    unsubscribe_state,
)
from .eligibility import (
    REASON_LABELS,
    ChannelAccess,
    Restraint,
    channel_access,
    channel_reachable,
    contacts_in_window,
    email_marketing_ids,
    in_quiet_period,
    open_complaint_ids,
    recently_contacted,
    restraint_for,
)
from .features import FEATURE_NAMES, customer_features, customer_values, expected_uplift
from .lists import (
    audience_queryset,
    campaign_get,
    campaign_list,
    evaluation_latest,
    segment_count,
    segment_customers,
    segment_get,
    segment_list,
)
from .next_best import (
    NextBest,
    active_campaigns,
    customer_next_best_context,
    next_best_actions,
    risk_reasons_text,
)
from .plan import (
    PREVIEW_ACTIONS,
    CampaignPreview,
    ContactPlan,
    Decision,
    RunAudience,
    campaign_preview,
    contacts_plan,
    plan_token,
    run_audience,
    trigger_occasions,
)

__all__ = [
    "CHANNELS",
    "COUNTED",
    "CampaignPreview",
    "ChannelAccess",
    "ContactPlan",
    "DELIVERED",
    "DELIVERY_LABELS",
    "DOI_MARK",
    "Decision",
    "FEATURE_NAMES",
    "NextBest",
    "PENDING_STATES",
    "PREVIEW_ACTIONS",
    "REASON_LABELS",
    "Restraint",
    "RunAudience",
    "active_campaigns",
    "audience_queryset",
    "call_tasks_filter",
    "campaign_call_tasks",
    "campaign_contacts_summary",
    "campaign_cost_committed",
    "campaign_get",
    "campaign_list",
    "campaign_preview",
    "campaign_send_job",
    "cap_window_days",
    "channel_access",
    "channel_reachable",
    "contact_cap",
    "contact_delivery",
    "contacts_in_window",
    "contacts_plan",
    "customer_data_export",
    "customer_features",
    "customer_next_best_context",
    "customer_values",
    "default_value",
    "email_marketing_ids",
    "evaluation_latest",
    "expected_uplift",
    "in_quiet_period",
    "min_gap_days",
    "next_best_actions",
    "open_complaint_ids",
    "plan_token",
    "recently_contacted",
    "restraint_for",
    "risk_reasons_text",
    "run_audience",
    "segment_count",
    "segment_customers",
    "segment_get",
    "segment_list",
    "trigger_occasions",
    "unsubscribe_state",
]

"""Every write of the campaigns app: segments, campaigns, sends, unsubscribes, DOI, evaluation.

The public face of the campaigns app for writes; one module per use case, the
public names re-exported here once (``from stammkunde.campaigns import
services``):

- ``segments``: save and freeze segments;
- ``campaigns``: create, change and switch campaigns and playbooks;
- ``sends``: who is contacted (the contact log), letters, call tasks, the schedule;
- ``mail``: composing, the throttled e-mail queue, delivery state, unsubscribe;
- ``doi``: double opt-in signups and their confirmation;
- ``evaluate``: treatment against control after the horizon;
- ``erasure``: DSGVO erasure.

The send is two steps on purpose. ``campaign_run`` / ``campaign_trigger_pass``
decide in one transaction who is contacted and write the contact log; e-mails
are only *queued* there. ``email_queue_send`` delivers queued mails in
throttled batches outside any transaction and checks consent again just
before each mail, so a withdrawal between run and delivery is honoured.
"""

from ._common import UNSUBSCRIBE_SALT, base_url
from .campaigns import CAMPAIGN_FIELDS, campaign_create, campaign_status_set, campaign_update
from .doi import (
    DOI_CONSENT_TEXT,
    DOI_MAX_AGE,
    DOI_SALT,
    DOI_SOURCE,
    DoiConfirmation,
    doi_confirm,
    doi_link_state,
    doi_request_create,
    doi_token,
)
from .erasure import customer_data_erase
from .evaluate import campaign_evaluate, campaigns_evaluate_due
from .mail import (
    campaign_test_send,
    campaign_text_render,
    contact_unsubscribe,
    email_bounce_record,
    email_compose,
    email_delivery_sync,
    email_queue_send,
    unsubscribe_token,
    unsubscribe_url,
)
from .segments import segment_freeze, segment_save
from .sends import (
    RUN_CHUNK,
    campaign_run,
    campaign_run_check,
    campaign_send_start,
    campaign_trigger_pass,
    campaigns_dispatch_due,
)

__all__ = [
    "CAMPAIGN_FIELDS",
    "DOI_CONSENT_TEXT",
    "DOI_MAX_AGE",
    "DOI_SALT",
    "DOI_SOURCE",
    "RUN_CHUNK",
    "UNSUBSCRIBE_SALT",
    "DoiConfirmation",
    "base_url",
    "campaign_create",
    "campaign_evaluate",
    "campaign_run",
    "campaign_run_check",
    "campaign_send_start",
    "campaign_status_set",
    "campaign_test_send",
    "campaign_text_render",
    "campaign_trigger_pass",
    "campaign_update",
    "campaigns_dispatch_due",
    "campaigns_evaluate_due",
    "contact_unsubscribe",
    "customer_data_erase",
    "doi_confirm",
    "doi_link_state",
    "doi_request_create",
    "doi_token",
    "email_bounce_record",
    "email_compose",
    "email_delivery_sync",
    "email_queue_send",
    "segment_freeze",
    "segment_save",
    "unsubscribe_token",
    "unsubscribe_url",
]

"""Every write of the channels app; import from here (``from stammkunde.channels import services``).

One pipeline for all ways in (file/pipe, LMTP/SMTP, IMAP) and one outbox for
every mail we send. Tickets and messages are written only through
``stammkunde.service.services``. The modules, by use case:

- ``inbound``: ``mail_ingest`` stores every raw message and ends in one result;
  reprocessing of the quarantine; retention of raw mail;
- ``routing``: threading onto a ticket, new tickets, prospects for unknown senders;
- ``bounces``: a hard bounce marks the address and the bounced mail;
- ``outbox``: queueing mail (replies, confirmations, campaigns, surveys), retry, cancel;
- ``sending``: claiming, delivering, backing off, failing;
- ``contacts``: the public web form and the offline contact log;
- ``personal``: erasure of personal data (Art. 17);
- ``accounts``: the mail accounts of the settings page (mailboxes, the SMTP server),
  their connection tests (``channels.servers`` talks to the servers).
"""

from ..servers import ConnectionCheck, default_sender, mail_connection
from .accounts import (
    mailbox_active_set,
    mailbox_connection_test,
    mailbox_save,
    mailbox_test,
    outgoing_server_connection_test,
    outgoing_server_save,
    outgoing_server_test,
)
from .config import TICKET_IN_SUBJECT, mail_limits
from .contacts import contact_form_submit, contact_log_record
from .inbound import IngestResult, inbound_expire, mail_ingest, mail_reprocess
from .outbox import (
    outbox_cancel,
    outbox_enqueue_campaign,
    outbox_enqueue_confirmation,
    outbox_enqueue_reply,
    outbox_enqueue_signup_confirmation,
    outbox_enqueue_survey,
    outbox_enqueue_test,
    outbox_retry,
    reply_subject,
)
from .personal import customer_data_erase
from .routing import Quarantine
from .sending import (
    OUTBOX_BACKOFF_BASE,
    OUTBOX_BACKOFF_MAX,
    OUTBOX_MAX_ATTEMPTS,
    SMTP_BACKEND,
    STALE_SENDING,
    outbox_backoff,
    outbox_build,
    outbox_send,
    outbox_send_due,
    outbox_sweep,
)

__all__ = [
    "OUTBOX_BACKOFF_BASE",
    "OUTBOX_BACKOFF_MAX",
    "OUTBOX_MAX_ATTEMPTS",
    "SMTP_BACKEND",
    "STALE_SENDING",
    "TICKET_IN_SUBJECT",
    "ConnectionCheck",
    "IngestResult",
    "Quarantine",
    "contact_form_submit",
    "contact_log_record",
    "customer_data_erase",
    "default_sender",
    "inbound_expire",
    "mail_connection",
    "mail_ingest",
    "mail_limits",
    "mail_reprocess",
    "mailbox_active_set",
    "mailbox_connection_test",
    "mailbox_save",
    "mailbox_test",
    "outbox_backoff",
    "outbox_build",
    "outbox_cancel",
    "outbox_enqueue_campaign",
    "outbox_enqueue_confirmation",
    "outbox_enqueue_reply",
    "outbox_enqueue_signup_confirmation",
    "outbox_enqueue_survey",
    "outbox_enqueue_test",
    "outbox_retry",
    "outbox_send",
    "outbox_send_due",
    "outbox_sweep",
    "outgoing_server_connection_test",
    "outgoing_server_save",
    "outgoing_server_test",
    "reply_subject",
]

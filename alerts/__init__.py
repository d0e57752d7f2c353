"""Alerts: findings become stored alerts, routed to officials, digested and delivered.

The pipeline, one module per stage::

    raise_alerts   findings -> new alerts (dedup by fingerprint, routed, deadline set)
    queue_digests  alerts -> one outbox message per official, run and channel (masked)
    deliver_pending  outbox -> apprise / outbox file, outcome recorded per message
"""

from naebu.alerts.channels import OUTBOX_FILE_CHANNEL, fill_url, privacy_url
from naebu.alerts.digest import NO_ADDRESS, SEVERITY_LABELS, queue_digests, render_digest
from naebu.alerts.directory import Directory, Official
from naebu.alerts.outbox import DeliveryReport, backoff, deliver_pending
from naebu.alerts.raising import existing_fingerprints, raise_alerts
from naebu.core.masking import mask_account, mask_document, mask_mapping, mask_text, mask_value
from naebu.core.workdays import add_business_days
from naebu.core.workdays import is_working_day as is_business_day

__all__ = [
    "NO_ADDRESS",
    "OUTBOX_FILE_CHANNEL",
    "SEVERITY_LABELS",
    "DeliveryReport",
    "Directory",
    "Official",
    "add_business_days",
    "backoff",
    "deliver_pending",
    "existing_fingerprints",
    "fill_url",
    "is_business_day",
    "mask_account",
    "mask_document",
    "mask_mapping",
    "mask_text",
    "mask_value",
    "privacy_url",
    "queue_digests",
    "raise_alerts",
    "render_digest",
]

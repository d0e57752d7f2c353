"""Payments are indexed by contract and by invoice number (Dataset.lookups).

An incremental run reads a contract's payments (payments before inspection) and the payments of
an invoice number (duplicate payments) for the few keys that changed; without these indexes each
read went through the whole table (0.3 s each at a province's million payments). On a large
store this migration builds both indexes once, a second or two per million payments.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_rec_payments_contract_id", "contract_id"),
    ("ix_rec_payments_invoice_no", "invoice_no"),
)


def upgrade() -> None:
    # A store made by create_all before migrations existed is stamped 0001 whatever naebu made
    # it (naebu.store.migrations.upgrade): such a store may have the indexes already.
    existing = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("rec_payments")}
    for name, column in _INDEXES:
        if name not in existing:
            # MariaDB indexes a TEXT column by a prefix only (naebu.store.history._table).
            op.create_index(name, "rec_payments", [column], mysql_length=100)


def downgrade() -> None:
    for name, _column in _INDEXES:
        op.drop_index(name, table_name="rec_payments")

"""levies gains reduction_reason, accounts gains virtual_accounts (issue 26, points 6 and 7).

LEVY-REDUCTION-REPEATED leaves alone reductions the law applies by itself (the 20% reduction
of a fine paid voluntarily), told by their reason (감면사유명); REV-RECEIPT-OTHER-ACCOUNT
accepts a per-payer virtual account in the bands a listed collection account declares.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_COLUMNS = {
    "rec_levies": ("reduction_reason",),
    "rec_accounts": ("virtual_accounts",),
}


def upgrade() -> None:
    # A store made by create_all before migrations existed is stamped 0001 whatever naebu made
    # it (naebu.store.migrations.upgrade): such a store may have the columns already.
    inspector = sa.inspect(op.get_bind())
    for table, columns in _COLUMNS.items():
        existing = {c["name"] for c in inspector.get_columns(table)}
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in columns:
                if name not in existing:
                    batch_op.add_column(sa.Column(name, sa.Text(), nullable=True))


def downgrade() -> None:
    for table, columns in _COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(columns):
                batch_op.drop_column(name)

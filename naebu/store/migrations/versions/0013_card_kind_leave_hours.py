"""card_transactions gains card_kind, attendance gains leave_hours and trip_hours (issue 26).

The business-card rules look at 업무추진비 cards only (a card company's download holds
일반구매 cards too); overtime on leave counts whole days of leave and of trips out of town, told
by their hours.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_COLUMNS = {
    "rec_card_transactions": (("card_kind", sa.Text),),
    "rec_attendance": (("leave_hours", sa.Float), ("trip_hours", sa.Float)),
}


def upgrade() -> None:
    # A store made by create_all before migrations existed is stamped 0001 whatever naebu made
    # it (naebu.store.migrations.upgrade): such a store may have the columns already.
    inspector = sa.inspect(op.get_bind())
    for table, columns in _COLUMNS.items():
        existing = {c["name"] for c in inspector.get_columns(table)}
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_ in columns:
                if name not in existing:
                    batch_op.add_column(sa.Column(name, type_(), nullable=True))


def downgrade() -> None:
    for table, columns in _COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _type in reversed(columns):
                batch_op.drop_column(name)

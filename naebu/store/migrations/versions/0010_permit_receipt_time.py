"""permits gains received_at, decided_at and legal_unit: what 민원처리법 제19조 counts with.

A handling period of 5 days or less runs in working hours from the time of receipt
(``received_at``) to the time of the decision (``decided_at``); a period may be given in
hours, weeks, months or years (``legal_unit``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_COLUMNS = (("received_at", sa.DateTime), ("decided_at", sa.DateTime), ("legal_unit", sa.Text))


def upgrade() -> None:
    # A store made by create_all before migrations existed is stamped 0001 whatever naebu made
    # it (naebu.store.migrations.upgrade): such a store may have the columns already.
    existing = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("rec_permits")}
    with op.batch_alter_table("rec_permits", schema=None) as batch_op:
        for name, type_ in _COLUMNS:
            if name not in existing:
                batch_op.add_column(sa.Column(name, type_(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rec_permits", schema=None) as batch_op:
        for name, _type in reversed(_COLUMNS):
            batch_op.drop_column(name)

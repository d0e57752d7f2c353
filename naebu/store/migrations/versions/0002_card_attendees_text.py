"""card_transactions gains attendees_text: the attendees as the source wrote them.

The per-person card rule reads the number of attendees out of this text ("행정팀장 등 3명"),
as disclosures and card drops give it, instead of a separate count.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A store made by create_all before migrations existed is stamped 0001 whatever naebu made
    # it (naebu.store.migrations.upgrade): such a store may have the column already.
    existing = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("rec_card_transactions")}
    if "attendees_text" in existing:
        return
    with op.batch_alter_table("rec_card_transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attendees_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rec_card_transactions", schema=None) as batch_op:
        batch_op.drop_column("attendees_text")

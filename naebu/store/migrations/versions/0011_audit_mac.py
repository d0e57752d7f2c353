"""The audit trail's signatures: ``audit_trail.mac`` and ``audit_head.mac`` (issue 17).

An HMAC with the audit key, which only the naebu host holds (alerts/anchor.py). Entries
written before have none and are reported by ``naebu audit verify`` as not signed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("audit_trail", "audit_head"):
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
        if "mac" not in columns:  # a store made by create_all with this naebu's tables
            op.add_column(table, sa.Column("mac", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("mac")
    with op.batch_alter_table("audit_trail") as batch:
        batch.drop_column("mac")

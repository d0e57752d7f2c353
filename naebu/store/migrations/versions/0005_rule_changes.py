"""Rule-change auditing: every version of every rule and reference list that ran.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "rule_versions" in sa.inspect(op.get_bind()).get_table_names():
        return  # a store made by create_all before migrations existed
    op.create_table(
        "rule_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rule_versions_rule", "rule_versions", ["rule_id", "retired_at"])


def downgrade() -> None:
    op.drop_index("ix_rule_versions_rule", table_name="rule_versions")
    op.drop_table("rule_versions")

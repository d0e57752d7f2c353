"""rule_drafts: proposed rule changes, simulated and approved before they run (issue 24).

A rule file or folder is proposed as a draft (its files and their hash), simulated over the
store's history, approved by the audit office; the daemon then loads only approved versions
(naebu/rule_drafts.py, naebu/daemon/rules.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "rule_drafts" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "rule_drafts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("simulation", sa.JSON(), nullable=True),
        sa.Column("simulated_at", sa.DateTime(), nullable=True),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("approval_reason", sa.Text(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rule_drafts_status", "rule_drafts", ["status"])


def downgrade() -> None:
    op.drop_index("ix_rule_drafts_status", table_name="rule_drafts")
    op.drop_table("rule_drafts")

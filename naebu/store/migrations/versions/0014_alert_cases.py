"""alerts gain case_key; alert_members lists each alert's records (issue 18, a finding is a case).

One alert per case (an official and a month, a set of duplicates): the records of the case are
its members. Every alert raised before cases is a case of one record, its own: the backfill gives
it one member, so a later run that groups those records finds them known and raises nothing
twice; answered alerts stay as they are.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = {c["name"] for c in inspector.get_columns("alerts")}
    if "case_key" not in existing:
        with op.batch_alter_table("alerts", schema=None) as batch_op:
            batch_op.add_column(sa.Column("case_key", sa.String(length=500), nullable=True))
    if "alert_members" not in inspector.get_table_names():
        op.create_table(
            "alert_members",
            sa.Column("alert_id", sa.Integer(), nullable=False),
            sa.Column("record_key", sa.String(length=500), nullable=False),
            sa.Column("rule_id", sa.String(length=100), nullable=False),
            sa.Column("dataset", sa.String(length=100), nullable=False),
            sa.Column("added_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
            sa.PrimaryKeyConstraint("alert_id", "record_key"),
        )
        op.create_index(
            "ix_alert_members_record", "alert_members", ["rule_id", "record_key"], unique=False
        )
        op.execute(
            "INSERT INTO alert_members (alert_id, record_key, rule_id, dataset, added_at) "
            "SELECT id, record_key, rule_id, dataset, created_at FROM alerts"
        )


def downgrade() -> None:
    op.drop_index("ix_alert_members_record", table_name="alert_members")
    op.drop_table("alert_members")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("case_key")

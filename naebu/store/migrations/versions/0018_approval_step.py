"""The department manager's approval step (issue 22): 조치 -> 승인 -> 확인.

``alerts.approved_at`` is when the department manager approved the answer that stands
(naebu.alerts.approval); ``alert_tallies`` counts per department and month the answered alerts
that are approved (``approved``) and those the audit office confirmed (``confirmed``: answered
and closed), for the scorecard's 승인율 and 확인율. Answers given before stay unapproved (no
approval was asked then); alerts closed before count as confirmed.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if "approved_at" not in {c["name"] for c in inspector.get_columns("alerts")}:
        with op.batch_alter_table("alerts", schema=None) as batch_op:
            batch_op.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
    tallies = {c["name"] for c in inspector.get_columns("alert_tallies")}
    with op.batch_alter_table("alert_tallies", schema=None) as batch_op:
        for name in ("approved", "confirmed"):
            if name not in tallies:
                batch_op.add_column(
                    sa.Column(name, sa.Integer(), nullable=False, server_default="0")
                )
    _count_confirmed(bind)


def _count_confirmed(bind: sa.Connection) -> None:
    """``confirmed`` of each tally row from the alerts closed after an answer (frozen here, as
    naebu.alerts.tallies counted it at this revision)."""
    alerts = sa.table(
        "alerts",
        sa.column("department", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("status", sa.String),
        sa.column("answered_at", sa.DateTime),
    )
    tallies = sa.table(
        "alert_tallies", sa.column("department"), sa.column("month"), sa.column("confirmed")
    )
    totals: dict[tuple[str, str], int] = {}
    q = sa.select(alerts).where(alerts.c.status == "closed", alerts.c.answered_at.is_not(None))
    for row in bind.execute(q).mappings():
        created = row["created_at"]
        key = (row["department"] or "", f"{created.year:04d}-{created.month:02d}")
        totals[key] = totals.get(key, 0) + 1
    for (department, month), n in sorted(totals.items()):
        bind.execute(
            sa.update(tallies)
            .where(tallies.c.department == department, tallies.c.month == month)
            .values(confirmed=n)
        )


def downgrade() -> None:
    with op.batch_alter_table("alert_tallies", schema=None) as batch_op:
        batch_op.drop_column("confirmed")
        batch_op.drop_column("approved")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("approved_at")

"""The scorecard without reading every alert: each alert's last answer, per department and month
tallies kept by the lifecycle, and covering indexes for the alert list and the overdue count.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ANSWERS = ("correct", "explain", "false_positive")
_INDEXES = (
    (
        "ix_alerts_list",
        ["status", "deadline", "severity", "rule_id", "department", "assignee", "created_at"],
    ),
    (
        "ix_alerts_rule_list",
        ["rule_id", "status", "deadline", "severity", "department", "assignee"],
    ),
    ("ix_alerts_last_answer", ["last_answer", "rule_id"]),
)
#: Used only by the scorecard's former monthly queries.
_DROPPED = (
    "ix_alerts_created_status",
    ["created_at", "status", "department", "answered_at", "deadline"],
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    # A store made by create_all before migrations existed may have all of this already.
    if "last_answer" not in {c["name"] for c in inspector.get_columns("alerts")}:
        op.add_column("alerts", sa.Column("last_answer", sa.String(length=20), nullable=True))
    if "alert_tallies" not in inspector.get_table_names():
        op.create_table(
            "alert_tallies",
            sa.Column("department", sa.String(length=200), nullable=False),
            sa.Column("month", sa.String(length=7), nullable=False),
            sa.Column("raised", sa.Integer(), nullable=False),
            sa.Column("answered", sa.Integer(), nullable=False),
            sa.Column("on_time", sa.Integer(), nullable=False),
            sa.Column("false_positive", sa.Integer(), nullable=False),
            sa.Column("repeats", sa.Integer(), nullable=False),
            sa.Column("open_due", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("department", "month"),
        )
    indexes = {i["name"] for i in inspector.get_indexes("alerts")}
    for name, columns in _INDEXES:
        if name not in indexes:
            op.create_index(name, "alerts", columns)
    if _DROPPED[0] in indexes:
        op.drop_index(_DROPPED[0], table_name="alerts")

    # Each alert's last answer, from the audit trail (what the scorecard read before).
    alerts = sa.table("alerts", sa.column("id", sa.Integer), sa.column("last_answer"))
    trail = sa.table(
        "audit_trail",
        sa.column("seq", sa.Integer),
        sa.column("alert_id", sa.Integer),
        sa.column("action"),
    )
    last = (
        sa.select(trail.c.action)
        .where(trail.c.alert_id == alerts.c.id, trail.c.action.in_(_ANSWERS))
        .order_by(trail.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    answered = (
        sa.select(trail.c.seq)
        .where(trail.c.alert_id == alerts.c.id, trail.c.action.in_(_ANSWERS))
        .exists()
    )
    bind.execute(sa.update(alerts).where(answered).values(last_answer=last))

    # The tallies, counted from the alerts as they are (naebu.alerts.tallies keeps them from now on).
    _rebuild_tallies(bind)


#: The counted columns of ``alert_tallies``, in order.
_COUNTS = ("raised", "answered", "on_time", "false_positive", "repeats", "open_due")
#: The statuses an official still has to answer, as they were at this revision.
_OPEN = ("raised", "acknowledged", "rejected")


def _rebuild_tallies(bind: sa.Connection) -> None:
    """Count ``alert_tallies`` from every alert, as naebu.alerts.tallies counted at this
    revision (frozen here: a later change to the live counting must not change what this
    migration wrote).

    One row per department ("" for none) and month of raising (YYYY-MM); a suppressed alert
    counts nowhere. Answered on time: answered no later than its deadline; 오탐: answered and
    the last answer is false_positive; open with a deadline: ``open_due``.
    """
    alerts = sa.table(
        "alerts",
        sa.column("department", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("status", sa.String),
        sa.column("answered_at", sa.DateTime),
        sa.column("deadline", sa.DateTime),
        sa.column("last_answer", sa.String),
        sa.column("reopened_from", sa.Integer),
    )
    tallies = sa.table("alert_tallies", *(sa.column(c) for c in ("department", "month", *_COUNTS)))
    totals: dict[tuple[str, str], list[int]] = {}
    for row in bind.execute(sa.select(alerts).where(alerts.c.status != "suppressed")).mappings():
        created = row["created_at"]
        key = (row["department"] or "", f"{created.year:04d}-{created.month:02d}")
        answered_at, deadline = row["answered_at"], row["deadline"]
        on_time = answered_at is not None and deadline is not None and answered_at <= deadline
        counts = (
            1,
            int(answered_at is not None),
            int(on_time),
            int(answered_at is not None and row["last_answer"] == "false_positive"),
            int(row["reopened_from"] is not None),
            int(row["status"] in _OPEN and deadline is not None),
        )
        total = totals.setdefault(key, [0] * len(_COUNTS))
        for i, n in enumerate(counts):
            total[i] += n
    bind.execute(sa.delete(tallies))
    rows = [
        {"department": k[0], "month": k[1], **dict(zip(_COUNTS, v, strict=True))}
        for k, v in sorted(totals.items())
        if any(v)
    ]
    if rows:
        bind.execute(sa.insert(tallies), rows)


def downgrade() -> None:
    op.create_index(_DROPPED[0], "alerts", _DROPPED[1])
    for name, _columns in _INDEXES:
        op.drop_index(name, table_name="alerts")
    op.drop_table("alert_tallies")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("last_answer")

"""The standard rule pack's datasets: payroll, payroll_transfers, subsidies, accounts; property
sales gain the first and previous planned prices, permits their statutory deadline (due_on).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_UPDATED = ("updated_at", sa.DateTime)
#: New history tables: (dataset, key, [(column, type)], event-time column or None).
_TABLES: tuple[tuple[str, str, list[tuple[str, type]], str | None], ...] = (
    (
        "accounts",
        "account_no",
        [
            ("department", sa.Text), ("official_id", sa.Text), ("bank", sa.Text),
            ("purpose", sa.Text), ("opened_on", sa.Date), ("last_activity_on", sa.Date),
            ("status", sa.Text), ("as_of", sa.Date), _UPDATED,
        ],
        None,
    ),
    (
        "payroll",
        "pay_line_id",
        [
            ("transfer_id", sa.Text), ("department", sa.Text), ("official_id", sa.Text),
            ("employee_id", sa.Text), ("pay_month", sa.Date), ("paid_on", sa.Date),
            ("amount", sa.Float), ("account_no", sa.Text), _UPDATED,
        ],
        "paid_on",
    ),
    (
        "payroll_transfers",
        "transfer_id",
        [
            ("department", sa.Text), ("official_id", sa.Text), ("pay_month", sa.Date),
            ("paid_on", sa.Date), ("total_amount", sa.Float), ("line_count", sa.BigInteger),
            _UPDATED,
        ],
        "paid_on",
    ),
    (
        "subsidies",
        "grant_id",
        [
            ("department", sa.Text), ("official_id", sa.Text), ("program", sa.Text),
            ("recipient_id", sa.Text), ("recipient_name", sa.Text), ("amount", sa.Float),
            ("decided_on", sa.Date), _UPDATED,
        ],
        "decided_on",
    ),
)  # fmt: skip
_COLUMNS: tuple[tuple[str, str, type], ...] = (
    ("rec_permits", "due_on", sa.Date),
    ("rec_property_sales", "initial_planned_price", sa.Float),
    ("rec_property_sales", "previous_planned_price", sa.Float),
)


def upgrade() -> None:
    # A store made by create_all before migrations existed is stamped 0001 whatever naebu made
    # it (naebu.store.migrations.upgrade): such a store may have these tables and columns already.
    inspector = sa.inspect(op.get_bind())
    for dataset, key, columns, time in _TABLES:
        name = f"rec_{dataset}"
        if inspector.has_table(name):
            continue
        op.create_table(
            name,
            sa.Column(key, sa.String(length=500), nullable=False),
            *[sa.Column(c, t(), nullable=True) for c, t in columns],
            sa.Column("_run_id", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint(key),
        )
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_index(f"ix_{name}_run", ["_run_id"], unique=False)
            if time is not None:
                batch_op.create_index(f"ix_{name}_time", [time], unique=False)
    for table, column, typ in _COLUMNS:
        if column in {c["name"] for c in inspector.get_columns(table)}:
            continue
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, typ(), nullable=True))


def downgrade() -> None:
    for table, column, _ in reversed(_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
    for dataset, _, _, time in reversed(_TABLES):
        name = f"rec_{dataset}"
        with op.batch_alter_table(name, schema=None) as batch_op:
            if time is not None:
                batch_op.drop_index(f"ix_{name}_time")
            batch_op.drop_index(f"ix_{name}_run")
        op.drop_table(name)

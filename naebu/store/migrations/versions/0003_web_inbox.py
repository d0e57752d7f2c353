"""The web inbox: accounts, sessions and login attempts, and indexes for its list and scorecard.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_INDEXES = (
    ("alerts", "ix_alerts_assignee", ["assignee"]),
    (
        "alerts",
        "ix_alerts_scorecard",
        ["department", "created_at", "status", "answered_at", "deadline", "reopened_from"],
    ),
    (
        "alerts",
        "ix_alerts_created_status",
        ["created_at", "status", "department", "answered_at", "deadline"],
    ),
    ("alerts", "ix_alerts_rule_created", ["rule_id", "created_at"]),
    ("audit_trail", "ix_audit_trail_action_alert", ["action", "alert_id"]),
)


def upgrade() -> None:
    # A store made by create_all before migrations existed is stamped 0001 whatever naebu made
    # it (naebu.store.migrations.upgrade): such a store may have these tables and indexes already.
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    if "web_users" not in tables:
        op.create_table(
            "web_users",
            sa.Column("employee_id", sa.String(length=100), nullable=False),
            sa.Column("password_hash", sa.String(length=200), nullable=False),
            sa.Column("disabled", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("employee_id"),
        )
    if "web_sessions" not in tables:
        op.create_table(
            "web_sessions",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("employee_id", sa.String(length=100), nullable=False),
            sa.Column("csrf_token", sa.String(length=64), nullable=False),
            sa.Column("method", sa.String(length=20), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("last_seen_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("token_hash"),
        )
        op.create_index("ix_web_sessions_employee", "web_sessions", ["employee_id"])
    if "web_login_attempts" not in tables:
        op.create_table(
            "web_login_attempts",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.Column("account", sa.String(length=100), nullable=False),
            sa.Column("address", sa.String(length=100), nullable=False),
            sa.Column("success", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_web_login_attempts_account", "web_login_attempts", ["account", "at"])
        op.create_index("ix_web_login_attempts_address", "web_login_attempts", ["address", "at"])
    for table, name, columns in _INDEXES:
        if name not in {i["name"] for i in inspector.get_indexes(table)}:
            op.create_index(name, table, columns)


def downgrade() -> None:
    for table, name, _columns in _INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_table("web_login_attempts")
    op.drop_table("web_sessions")
    op.drop_table("web_users")

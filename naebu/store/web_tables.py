"""The web inbox's tables: accounts, server-side sessions, login attempts, and query indexes.

They are the store's (this floor), on :data:`naebu.store.tables.metadata` like every other
store table once this module is imported (the migrations' env.py imports it, so autogenerate
sees them); revision ``0003`` creates them from its own frozen copy. Revision ``0006``
replaced the scorecard's index by the list's and the overdue count's.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table

from naebu.store.tables import alerts, audit_trail, metadata

#: A local account of an official (the login of the web inbox): the employee id is the user
#: name; the password is only kept as an argon2 hash.
web_users = Table(
    "web_users",
    metadata,
    Column("employee_id", String(100), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

#: Server-side sessions. The cookie holds a random token; only its sha256 is stored, so a
#: copy of the database does not let anyone sign in. Each session has its own CSRF token.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("employee_id", String(100), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    # "password" or "header" (the reverse proxy's SSO header)
    Column("method", String(20), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_web_sessions_employee", "employee_id"),
)

#: Every login attempt, for rate limiting per account and per client address (and as a
#: record of who tried). Old rows are pruned at each login.
web_login_attempts = Table(
    "web_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("account", String(100), nullable=False),
    Column("address", String(100), nullable=False),
    Column("success", Boolean, nullable=False),
    Index("ix_web_login_attempts_account", "account", "at"),
    Index("ix_web_login_attempts_address", "address", "at"),
)

# Indexes the inbox's list and scorecard queries need on tables naebu.store.tables defines (an Index
# built from a table's columns attaches to that table). They cover every column the counts
# read, so counting never touches the alert rows (evidence and messages are large).
INDEXES = (
    Index("ix_alerts_assignee", alerts.c.assignee),
    # A department's alerts (a manager's list and counts).
    Index(
        "ix_alerts_scorecard",
        alerts.c.department,
        alerts.c.created_at,
        alerts.c.status,
        alerts.c.answered_at,
        alerts.c.deadline,
        alerts.c.reopened_from,
    ),
    Index("ix_alerts_rule_created", alerts.c.rule_id, alerts.c.created_at),
    Index("ix_audit_trail_action_alert", audit_trail.c.action, audit_trail.c.alert_id),
    # Revision 0006. The list's filters by status (and due dates), and the scorecard's overdue
    # count (open, deadline passed): a status and deadline range, the rest read from the index.
    Index(
        "ix_alerts_list",
        alerts.c.status,
        alerts.c.deadline,
        alerts.c.severity,
        alerts.c.rule_id,
        alerts.c.department,
        alerts.c.assignee,
        alerts.c.created_at,
    ),
    # The list filtered by rule.
    Index(
        "ix_alerts_rule_list",
        alerts.c.rule_id,
        alerts.c.status,
        alerts.c.deadline,
        alerts.c.severity,
        alerts.c.department,
        alerts.c.assignee,
    ),
    # The rule catalog's answers per rule.
    Index("ix_alerts_last_answer", alerts.c.last_answer, alerts.c.rule_id),
)

"""MySQL and MariaDB: the texts that can exceed 64 KB become LONGTEXT.

There TEXT holds 65,535 bytes: a digest of the default 100 alerts at scale was 68,530 bytes
and every run failed with ``DataError 1406`` (issue 17). ``outbox.body``, ``alerts.message`` and
``runs.error`` (a long traceback) become LONGTEXT; JSON columns are LONGTEXT on MariaDB and
native JSON on MySQL already. Other databases have no such limit: nothing changes there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("outbox", "body", False),
    ("alerts", "message", False),
    ("runs", "error", True),
)


def upgrade() -> None:
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    for table, column, nullable in _COLUMNS:
        op.alter_column(
            table,
            column,
            type_=mysql.LONGTEXT(),
            existing_type=sa.Text(),
            existing_nullable=nullable,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name not in ("mysql", "mariadb"):
        return
    for table, column, nullable in reversed(_COLUMNS):
        op.alter_column(
            table,
            column,
            type_=sa.Text(),
            existing_type=mysql.LONGTEXT(),
            existing_nullable=nullable,
        )

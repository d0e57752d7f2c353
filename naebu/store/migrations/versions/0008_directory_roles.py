"""Roles derived from the directory: employees gain their grade (직급), departments their
head (부서장, ``head_id``), both read by ``[routing.roles]`` (naebu.alerts.role_settings).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("rec_employees", "grade"),
    ("rec_departments", "head_id"),
)


def upgrade() -> None:
    # A store made by create_all before migrations existed is stamped 0001 whatever naebu made
    # it (naebu.store.migrations.upgrade): such a store may have the columns already.
    inspector = sa.inspect(op.get_bind())
    for table, column in _COLUMNS:
        if column in {c["name"] for c in inspector.get_columns(table)}:
            continue
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.Text(), nullable=True))


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)

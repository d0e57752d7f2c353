"""The record history in segment files (issue 21): the manifest of live segments.

On a SQLite store with a file, each committed batch of records is one Parquet file beside
the database (naebu.store.segments); ``history_segments`` names the live ones, one row each,
in the order they were written. A store's ``rec_<dataset>`` tables stay (PostgreSQL and
in-memory stores keep their history there); on a SQLite file store their records are moved
into segments when the store is opened (naebu.store.segments.adopt_tables), not here: the
files are not the database's to write in a migration.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "history_segments" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "history_segments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("history_segments", schema=None) as batch_op:
        batch_op.create_index("ix_history_segments_dataset", ["dataset", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("history_segments", schema=None) as batch_op:
        batch_op.drop_index("ix_history_segments_dataset")
    op.drop_table("history_segments")

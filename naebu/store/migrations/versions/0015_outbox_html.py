"""outbox gains body_html: the HTML part of a mail beside its text part (issue 18, mail that works).

Digests and follow-ups are rendered twice, as text (``body``, what every channel gets) and as
HTML with a table of the alerts (``body_html``, sent beside the text to email channels). Kept
in the outbox so a retried message is the message first rendered. Messages queued before have
no HTML part: they go out as text only, as they were written. LONGTEXT on MySQL and MariaDB,
like ``body`` (0009): an HTML digest of a hundred alerts is larger than their text.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = {c["name"] for c in inspector.get_columns("outbox")}
    if "body_html" not in existing:
        with op.batch_alter_table("outbox", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "body_html",
                    sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb"),
                    nullable=True,
                )
            )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("body_html")

"""Reason codes for false-positive answers and suppressions, and the amount recovered (issue 24).

The rule-quality statistics (naebu.alerts.quality) count false positives and exclusions by reason,
from a short closed list (naebu.alerts.reasons: 자료 오류, 정상 업무, 규칙 기준 부적합, 기타):
``alerts.reason_code`` keeps the code of an alert's false-positive answer and
``suppressions.reason_code`` the code of an exclusion. ``alerts.recovered_amount`` keeps
what a 조치 완료 answer says was recovered (KRW), for the ISO 37001 report. Rows written
before stay NULL: shown as "사유 미기재" (no reason given), never guessed.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    alerts = {c["name"] for c in inspector.get_columns("alerts")}
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        if "reason_code" not in alerts:
            batch_op.add_column(sa.Column("reason_code", sa.String(length=40), nullable=True))
        if "recovered_amount" not in alerts:
            batch_op.add_column(sa.Column("recovered_amount", sa.Float(), nullable=True))
    suppressions = {c["name"] for c in inspector.get_columns("suppressions")}
    if "reason_code" not in suppressions:
        with op.batch_alter_table("suppressions", schema=None) as batch_op:
            batch_op.add_column(sa.Column("reason_code", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.drop_column("reason_code")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("recovered_amount")
        batch_op.drop_column("reason_code")

"""urgent cases: when a citizen in a case spoke of harming themselves

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 18:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import agent_desk.models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent_at', agent_desk.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
    # Cases opened for a crisis before this revision are urgent from their start.
    op.execute(sa.text("UPDATE cases SET urgent_at = created_at WHERE reason = 'crisis'"))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('urgent_at')

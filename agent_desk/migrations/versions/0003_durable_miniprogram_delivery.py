"""durable mini-program delivery: claim columns, open-delivery index, stuck messages to pending

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 10:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import agent_desk.models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OPEN_SQL = "delivery IN ('pending', 'claimed', 'sending')"


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_at', agent_desk.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('delivery_owner', sa.String(length=32), nullable=True))
    # Before this revision a mini-program message whose sender died stayed "stored" for ever; the
    # ones still "stored" are exactly those. As "pending" the resend sweep sends them, or marks
    # them undelivered (and tells the agent) when WeChat's 48-hour window has passed.
    op.execute(sa.text(
        "UPDATE messages SET delivery = 'pending' WHERE delivery = 'stored' AND sender <> 'citizen' "
        "AND NOT private AND citizen_id IN (SELECT id FROM citizens WHERE channel = 'miniprogram')"))
    op.create_index('ix_messages_delivery_open', 'messages', ['citizen_id', 'id'], unique=False,
                    postgresql_where=sa.text(OPEN_SQL), sqlite_where=sa.text(OPEN_SQL))


def downgrade() -> None:
    op.drop_index('ix_messages_delivery_open', table_name='messages')
    op.execute(sa.text(f"UPDATE messages SET delivery = 'stored' WHERE {OPEN_SQL}"))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('delivery_owner')
        batch_op.drop_column('delivery_at')

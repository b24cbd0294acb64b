"""rating rectification follow-up

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 13:35:26.951340
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import agent_desk.models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rectification_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('rectified_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rectified_at', agent_desk.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_ratings_rectification'), ['rectification'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ratings_rectified_by_users'), 'users', ['rectified_by'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ratings_rectified_by_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ratings_rectification'))
        batch_op.drop_column('rectified_at')
        batch_op.drop_column('rectified_by')
        batch_op.drop_column('rectification_note')


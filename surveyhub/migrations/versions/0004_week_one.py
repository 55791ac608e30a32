"""week one: short forms and one-question screens, resident language, extra questions per wave, pair decisions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 15:10:00
"""
from alembic import op
import sqlalchemy as sa
import surveyhub.models._types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_length', sa.String(length=10), server_default='full', nullable=False))
        batch_op.add_column(sa.Column('question_mode', sa.String(length=10), server_default='page', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=10), server_default='nl', nullable=False))

    with op.batch_alter_table('project_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waves', sa.JSON(), nullable=True))

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_language', sa.String(length=10), nullable=True))

    op.create_table('pair_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('first_participant_id', sa.Integer(), nullable=False),
    sa.Column('second_participant_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('confirmed', 'undone')", name=op.f('ck_pair_decisions_decision')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_pair_decisions_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['first_participant_id'], ['participants.id'], name=op.f('fk_pair_decisions_first_participant_id_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_pair_decisions_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['second_participant_id'], ['participants.id'], name=op.f('fk_pair_decisions_second_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pair_decisions')),
    sa.UniqueConstraint('project_id', 'first_participant_id', 'second_participant_id', name=op.f('uq_pair_decisions'))
    )
    with op.batch_alter_table('pair_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pair_decisions_project_id'), ['project_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pair_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pair_decisions_project_id'))
    op.drop_table('pair_decisions')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('certificate_language')
    with op.batch_alter_table('project_questions', schema=None) as batch_op:
        batch_op.drop_column('waves')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('language')
        batch_op.drop_column('question_mode')
        batch_op.drop_column('form_length')

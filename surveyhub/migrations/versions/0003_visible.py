"""visible: the project's story (funder, period, outputs), certificate details, short codes, chosen quotes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:15:00
"""
from alembic import op
import sqlalchemy as sa
import surveyhub.models._types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project_outputs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('photo_type', sa.String(length=40), nullable=True),
    sa.Column('created_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_project_outputs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_outputs_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_outputs'))
    )
    with op.batch_alter_table('project_outputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_outputs_project_id'), ['project_id'], unique=False)

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('funder_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('meetings_held', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('volunteer_hours', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recommendations', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('primary_scale', sa.String(length=130), nullable=True))

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('certificate_orientation', sa.String(length=10), server_default='landscape',
                                      nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_title', sa.String(length=200), nullable=True))

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=200), nullable=True))

    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short_code', sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_tokens_short_code'), ['short_code'])

    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chosen_quote', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_column('chosen_quote')
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_tokens_short_code'), type_='unique')
        batch_op.drop_column('short_code')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('role')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('job_title')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('certificate_orientation')
        batch_op.drop_column('contact')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        for column in ('primary_scale', 'recommendations', 'volunteer_hours', 'meetings_held', 'period_end',
                       'period_start', 'funder_name'):
            batch_op.drop_column(column)
    with op.batch_alter_table('project_outputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_outputs_project_id'))
    op.drop_table('project_outputs')

"""jobs, e-mail outbox, reminders and dated waves

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 18:00:50
"""
from alembic import op
import sqlalchemy as sa
import surveyhub.models._types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result_name', sa.String(length=200), nullable=True),
    sa.Column('result_type', sa.String(length=80), nullable=True),
    sa.Column('result_size', sa.Integer(), nullable=True),
    sa.Column('seen_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'finishing', 'done', 'failed')", name=op.f('ck_jobs_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_jobs_created_by_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_jobs_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_jobs_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('public_id', name=op.f('uq_jobs_public_id'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_jobs_status_heartbeat', ['status', 'heartbeat_at'], unique=False)

    op.create_table('job_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_files_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_files')),
    sa.UniqueConstraint('job_id', 'position', name='uq_job_files_position')
    )
    with op.batch_alter_table('job_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_files_job_id'), ['job_id'], unique=False)

    op.create_table('job_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('claimed_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('output', sa.LargeBinary(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name=op.f('ck_job_items_status')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_items_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_items')),
    sa.UniqueConstraint('job_id', 'position', name='uq_job_items_position')
    )
    with op.batch_alter_table('job_items', schema=None) as batch_op:
        batch_op.create_index('ix_job_items_job_status', ['job_id', 'status'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('wave_kind', sa.String(length=10), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('queued_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('invitation', 'reminder')", name=op.f('ck_outbox_kind')),
    sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name=op.f('ck_outbox_status')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_outbox_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_outbox_participant_id_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_outbox_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queued_by_id'], ['users.id'], name=op.f('fk_outbox_queued_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_dedupe_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_outbox_status', ['status'], unique=False)

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_opt_out_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reminder_count', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('close_on', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('waves', schema=None) as batch_op:
        batch_op.drop_column('close_on')
        batch_op.drop_column('open_on')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('reminder_count')
        batch_op.drop_column('reminder_days')

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('reminders_opt_out_at')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status')
        batch_op.drop_index(batch_op.f('ix_outbox_project_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_participant_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_organisation_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('job_items', schema=None) as batch_op:
        batch_op.drop_index('ix_job_items_job_status')

    op.drop_table('job_items')
    with op.batch_alter_table('job_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_files_job_id'))

    op.drop_table('job_files')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_heartbeat')
        batch_op.drop_index(batch_op.f('ix_jobs_project_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_expires_at'))
        batch_op.drop_index(batch_op.f('ix_jobs_created_by_id'))

    op.drop_table('jobs')

"""activities, networks, reference sharing

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 21:13:04
"""
from alembic import op
import sqlalchemy as sa
import surveyhub.models._types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_KINDS_BEFORE = "kind IN ('certificate', 'participation', 'report', 'questionnaire', 'sheet')"
_KINDS_NOW = ("kind IN ('certificate', 'participation', 'report', 'questionnaire', 'sheet', "
              "'org_report', 'network_report')")


def upgrade() -> None:
    op.create_table('networks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('join_code_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_networks_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_networks')),
    sa.UniqueConstraint('slug', name=op.f('uq_networks_slug'))
    )
    op.create_table('network_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('joined_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('coordinator', 'member')", name=op.f('ck_network_members_role')),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_network_members_network_id_networks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_network_members_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_members')),
    sa.UniqueConstraint('network_id', 'organisation_id', name='uq_network_members')
    )
    with op.batch_alter_table('network_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_members_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_members_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('network_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_network_projects_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_network_projects_network_id_networks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_network_projects_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_projects')),
    sa.UniqueConstraint('network_id', 'project_id', name='uq_network_projects')
    )
    with op.batch_alter_table('network_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_projects_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_projects_project_id'), ['project_id'], unique=False)

    op.create_table('network_viewers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_network_viewers_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_network_viewers_network_id_networks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_network_viewers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_viewers')),
    sa.UniqueConstraint('network_id', 'user_id', name='uq_network_viewers')
    )
    with op.batch_alter_table('network_viewers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_viewers_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_viewers_user_id'), ['user_id'], unique=False)

    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('happened_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('created_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('meeting', 'workday', 'event', 'training', 'other')", name=op.f('ck_activities_kind')),
    sa.CheckConstraint('hours >= 0 AND hours <= 24', name=op.f('ck_activities_hours')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_activities_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_activities_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['participants.id'], name=op.f('fk_activities_proposed_by_id_participants'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities'))
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_project_id'), ['project_id'], unique=False)

    op.create_table('activity_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('confirmed_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', surveyhub.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('participant', 'volunteer', 'organiser', 'chair')", name=op.f('ck_activity_participants_role')),
    sa.CheckConstraint("source IN ('worker', 'resident', 'import')", name=op.f('ck_activity_participants_source')),
    sa.CheckConstraint('hours IS NULL OR (hours >= 0 AND hours <= 24)', name=op.f('ck_activity_participants_hours')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_activity_participants_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_activity_participants_confirmed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_activity_participants_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_participants')),
    sa.UniqueConstraint('activity_id', 'participant_id', name='uq_activity_participants')
    )
    with op.batch_alter_table('activity_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_participants_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_participants_participant_id'), ['participant_id'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_network_id'), ['network_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_documents_network_id_networks'), 'networks', ['network_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(batch_op.f('ck_documents_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_documents_kind'), _KINDS_NOW)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shares_reference', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('shares_reference')

    op.execute("DELETE FROM documents WHERE kind IN ('org_report', 'network_report')")
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_documents_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_documents_kind'), _KINDS_BEFORE)
        batch_op.drop_constraint(batch_op.f('fk_documents_network_id_networks'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_documents_network_id'))
        batch_op.drop_column('network_id')

    with op.batch_alter_table('activity_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_participants_participant_id'))
        batch_op.drop_index(batch_op.f('ix_activity_participants_activity_id'))

    op.drop_table('activity_participants')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_project_id'))

    op.drop_table('activities')
    with op.batch_alter_table('network_viewers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_viewers_user_id'))
        batch_op.drop_index(batch_op.f('ix_network_viewers_network_id'))

    op.drop_table('network_viewers')
    with op.batch_alter_table('network_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_projects_project_id'))
        batch_op.drop_index(batch_op.f('ix_network_projects_network_id'))

    op.drop_table('network_projects')
    with op.batch_alter_table('network_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_members_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_network_members_network_id'))

    op.drop_table('network_members')
    op.drop_table('networks')

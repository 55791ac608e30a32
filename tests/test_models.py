"""Model constraints that the database itself enforces, on SQLite and PostgreSQL.

These rules must hold even when a bug in a service (or a hand-written script)
tries to break them, so each test bypasses the services and writes rows directly.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from surveyhub.models import Organisation, Participant, Project, Response, Token, User, Wave
from surveyhub.services import responses


def _project(session, slug: str) -> Project:
    return session.scalar(select(Project).where(Project.slug == slug))


def _wave(project: Project, kind: str) -> Wave:
    return next(w for w in project.waves if w.kind == kind)


def _participant(session, invitation) -> Participant:
    return session.scalar(select(Participant).join(Token).where(Token.token == invitation.token))


def test_one_response_per_participant_per_wave(session, make_org, make_project, make_participant):
    org = make_org()
    info = make_project(org)
    invitation = make_participant(org, info.slug)
    project, participant = _project(session, info.slug), _participant(session, invitation)
    session.add(Response(participant_id=participant.id, wave_id=_wave(project, "pre").id))
    session.commit()

    session.add(Response(participant_id=participant.id, wave_id=_wave(project, "pre").id))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()

    # The same participant may answer another wave.
    session.add(Response(participant_id=participant.id, wave_id=_wave(project, "post").id))
    session.commit()
    assert len(session.scalars(select(Response).where(Response.participant_id == participant.id)).all()) == 2


def test_the_response_service_reuses_the_existing_response(session, make_org, make_project, make_participant):
    org = make_org()
    info = make_project(org)
    invitation = make_participant(org, info.slug)
    project, participant = _project(session, info.slug), _participant(session, invitation)
    first = responses.get_or_start(session, participant, _wave(project, "pre"))
    session.commit()
    again = responses.get_or_start(session, participant, _wave(project, "pre"))
    assert again.id == first.id


def test_tokens_are_unique_across_projects(session, make_org, make_project, make_participant):
    org = make_org()
    first = make_participant(org, make_project(org, "Buurttuin").slug)
    other = make_participant(org, make_project(org, "Speeltuin").slug)
    other_participant = _participant(session, other)
    session.add(Token(participant_id=other_participant.id, token=first.token))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_participant_code_is_unique_within_a_project_only(session, make_org, make_project, make_participant):
    org = make_org()
    garden, playground = make_project(org, "Buurttuin"), make_project(org, "Speeltuin")
    invitation = make_participant(org, garden.slug)
    garden_project = _project(session, garden.slug)

    session.add(Participant(project_id=garden_project.id, code=invitation.code))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()

    session.add(Participant(project_id=_project(session, playground.slug).id, code=invitation.code))
    session.commit()


def test_user_email_is_unique(session, make_user):
    existing = make_user("worker")
    session.add(User(organisation_id=existing.organisation_id, email=existing.email, role="worker",
                     password_hash="x"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_foreign_keys_are_enforced(session):
    """On SQLite too: ``PRAGMA foreign_keys=ON`` must be set on every connection."""
    session.add(User(organisation_id=987654, email="ghost@example.org", role="worker", password_hash="x"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert session.scalar(select(User).where(User.email == "ghost@example.org")) is None


def test_deleting_an_organisation_cascades_to_its_users(session, make_user):
    user = make_user("worker")
    # A core (not ORM) delete, so only the database's ON DELETE CASCADE can remove the user.
    session.execute(Organisation.__table__.delete().where(Organisation.id == user.organisation_id))
    session.commit()
    assert session.get(User, user.id) is None


def test_role_check_constraint(session, make_org):
    org = make_org()
    session.add(User(organisation_id=org.id, email="owner@example.org", role="owner", password_hash="x"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_wave_kind_check_constraint(session, make_org, make_project):
    org = make_org()
    project = _project(session, make_project(org).slug)
    session.add(Wave(project_id=project.id, kind="midterm"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_one_wave_of_each_kind_per_project(session, make_org, make_project):
    org = make_org()
    project = _project(session, make_project(org).slug)
    session.add(Wave(project_id=project.id, kind="post"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_response_status_check_constraint(session, make_org, make_project, make_participant):
    org = make_org()
    info = make_project(org)
    participant = _participant(session, make_participant(org, info.slug))
    session.add(Response(participant_id=participant.id, wave_id=_wave(_project(session, info.slug), "pre").id,
                         status="half-done"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_timestamps_are_timezone_aware_utc(session, make_user):
    user = make_user("worker")
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored.created_at.utcoffset() is not None
    assert stored.created_at.utcoffset().total_seconds() == 0


def test_naive_timestamps_are_refused(session, make_user):
    user = session.get(User, make_user("worker").id)
    user.last_login_at = datetime(2026, 1, 1, 12, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
    session.rollback()


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path):
    from surveyhub import create_app

    sqlite_app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "t", "PLUGINS_DIR": ""})
    engine = sqlite_app.extensions["surveyhub.db"].engine
    try:
        assert engine.dialect.name == "sqlite"
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        engine.dispose()

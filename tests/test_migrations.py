"""Alembic migrations: from an empty database to head, on SQLite and PostgreSQL, with no drift
between the migrations and the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import surveyhub.models  # noqa: F401  (every table on the metadata)
from surveyhub import create_app
from surveyhub.db import Base
from surveyhub.services import schema_state


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path):
    """An app on a brand-new, empty database: an SQLite file or a PostgreSQL database."""
    settings = {"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test", "PLUGINS_DIR": ""}
    if request.param == "postgresql":
        settings["DATABASE_URL"] = request.getfixturevalue("postgres_database")
    else:
        settings["DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app(settings)
    yield app
    app.extensions["surveyhub.db"].engine.dispose()


def _engine(app):
    return app.extensions["surveyhub.db"].engine


def _drift(app) -> list:
    with _engine(app).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "compare_server_default": True})
        return compare_metadata(context, Base.metadata)


def test_upgrade_from_empty_to_head_has_no_drift(empty_app):
    assert inspect(_engine(empty_app)).get_table_names() == []
    before, after = schema_state.upgrade(empty_app.extensions["surveyhub.db"])
    assert before is None and after == schema_state.head_revision()
    assert schema_state.current_revision(_engine(empty_app)) == schema_state.head_revision()
    assert set(inspect(_engine(empty_app)).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    assert _drift(empty_app) == []


def test_upgrade_twice_is_harmless(empty_app):
    schema_state.upgrade(empty_app.extensions["surveyhub.db"])
    before, after = schema_state.upgrade(empty_app.extensions["surveyhub.db"])
    assert before == after == schema_state.head_revision()
    assert _drift(empty_app) == []


def test_downgrade_to_base_and_back(empty_app):
    schema_state.upgrade(empty_app.extensions["surveyhub.db"])
    config = schema_state.alembic_config(empty_app.config["DATABASE_URL"])
    with _engine(empty_app).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert inspect(_engine(empty_app)).get_table_names() in ([], ["alembic_version"])
    schema_state.upgrade(empty_app.extensions["surveyhub.db"])
    assert _drift(empty_app) == []


def test_a_database_behind_head_is_reported_with_the_fix(empty_app):
    with pytest.raises(schema_state.DatabaseNotReady, match="surveyhub init"):
        schema_state.check(_engine(empty_app))


def test_one_head_and_a_linear_history():
    script = ScriptDirectory.from_config(schema_state.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert all(len(rev._all_down_revisions) <= 1 for rev in script.walk_revisions())


def test_the_drift_check_does_notice_a_difference(empty_app):
    """Guard the guard: a column the migrations do not create must show up as drift."""
    from sqlalchemy import Column, MetaData, String

    schema_state.upgrade(empty_app.extensions["surveyhub.db"])
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["users"].append_column(Column("nickname", String(40)))
    with _engine(empty_app).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), changed)
    assert [(d[0], d[3].name) for d in diff if d[0] == "add_column"] == [("add_column", "nickname")]

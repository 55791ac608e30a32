"""Alembic environment: runs on the connection SurveyHub hands it, or on the URL."""

from alembic import context
from sqlalchemy import create_engine

import surveyhub.models  # noqa: F401  (registers every table on the metadata)
from surveyhub.db import Base

target_metadata = Base.metadata
config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        run(conn)

"""A plugin whose hook asks for an argument the hook does not pass."""

from surveyhub import hookimpl


@hookimpl
def surveyhub_response_completed(response, session):
    session.commit()

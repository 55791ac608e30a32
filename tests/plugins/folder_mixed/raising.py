"""A plugin whose hook raises when it is called at start-up."""

from surveyhub import hookimpl


@hookimpl
def surveyhub_register_instruments():
    raise RuntimeError("the norms server did not answer")

"""A plugin with a hook name that matches no specification (the 's' is missing)."""

from surveyhub import hookimpl


@hookimpl
def surveyhub_register_instrument():
    return []

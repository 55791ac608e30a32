"""A plugin with a hook wrapper: SurveyHub calls each implementation on its own, so it is refused."""

from surveyhub import hookimpl


@hookimpl(wrapper=True)
def surveyhub_register_scoring_methods():
    methods = yield
    return methods

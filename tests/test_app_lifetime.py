"""An app that is let go is collected: no module-level registry keeps it (or its engine) alive.

A worker process makes one app, but the test suite makes thousands; a registry holding them once grew
the test process to gigabytes, and forking a render child from it went past the render budget.
"""

import gc
import weakref

from surveyhub import create_app
from surveyhub.plugins import get_host


def _let_go(app_config) -> tuple[weakref.ref, weakref.ref]:
    application = create_app(app_config)
    engine = application.extensions["surveyhub.db"].engine
    get_host(application).problems.flush()
    engine.dispose()
    return weakref.ref(application), weakref.ref(engine)


def test_an_app_and_its_engine_are_collected_once_let_go(app_config):
    app, engine = _let_go(app_config)
    newer = create_app(app_config)  # a library may hold on to the newest app only (SpecTree's spec)
    try:
        gc.collect()
        assert app() is None, [type(r).__name__ for r in gc.get_referrers(app())]
        assert engine() is None
    finally:
        get_host(newer).problems.flush()
        newer.extensions["surveyhub.db"].engine.dispose()

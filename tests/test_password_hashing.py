"""Password hashing: production strength outside tests, cheap only in an app built with TESTING.

Test runs hash with cheap argon2 parameters (see ``accounts.TESTING_HASHER``);
these tests make sure that never leaks into a real app, and that hashes made
with either set verify under the other (argon2 stores its parameters in the hash).
"""

from __future__ import annotations

import argon2
import pytest
from sqlalchemy import select

from surveyhub import create_app
from surveyhub.models import User
from surveyhub.services import accounts

PASSWORD = "Zonnebloem-Tuin-2026"


@pytest.fixture
def production_app(app_config):
    """The same database, as a real server builds the app: TESTING off."""
    application = create_app({**app_config, "TESTING": False})
    yield application
    application.extensions["surveyhub.db"].engine.dispose()


def _stored(app, email: str) -> str:
    with app.extensions["surveyhub.db"].session() as session:
        return session.scalar(select(User.password_hash).where(User.email == email))


def _create(app, email: str) -> None:
    with app.extensions["surveyhub.db"].session() as session:
        org = accounts.create_organisation(session, f"Org {email}")
        accounts.create_user(session, org.id, email, "worker", PASSWORD)
        session.commit()


def _sign_in(app, email: str, password: str = PASSWORD):
    with app.extensions["surveyhub.db"].session() as session:
        found = accounts.authenticate(session, email, password)
        session.commit()
        return found


def test_a_real_app_hashes_with_the_strong_argon2id_parameters(production_app):
    _create(production_app, "echt@example.org")
    params = argon2.extract_parameters(_stored(production_app, "echt@example.org"))
    assert params.type is argon2.Type.ID
    # RFC 9106's low-memory profile, argon2-cffi's defaults: 3 passes over 64 MiB with 4 lanes.
    assert (params.time_cost, params.memory_cost, params.parallelism) == (3, 64 * 1024, 4)
    assert params == argon2.extract_parameters(argon2.PasswordHasher().hash(PASSWORD))


def test_only_a_testing_app_hashes_cheaply(app):
    _create(app, "test@example.org")
    params = argon2.extract_parameters(_stored(app, "test@example.org"))
    assert params.type is argon2.Type.ID
    assert (params.time_cost, params.memory_cost, params.parallelism) == (1, 1024, 1)


def test_a_cheap_hash_still_signs_in_on_a_real_app_and_is_made_strong_there(app, production_app):
    # Both apps live in this process and the last one built chose the hasher: say which one acts.
    accounts.configure_hashing(testing=True)
    _create(app, "overstap@example.org")
    assert argon2.extract_parameters(_stored(app, "overstap@example.org")).memory_cost == 1024
    accounts.configure_hashing(testing=False)
    assert _sign_in(production_app, "overstap@example.org", "wrong password") is None
    assert _sign_in(production_app, "overstap@example.org") is not None
    params = argon2.extract_parameters(_stored(production_app, "overstap@example.org"))
    assert (params.time_cost, params.memory_cost, params.parallelism) == (3, 64 * 1024, 4)


def test_a_strong_hash_signs_in_on_a_testing_app(production_app, app):
    accounts.configure_hashing(testing=False)
    _create(production_app, "sterk@example.org")
    assert argon2.extract_parameters(_stored(app, "sterk@example.org")).memory_cost == 64 * 1024
    accounts.configure_hashing(testing=True)
    assert _sign_in(app, "sterk@example.org") is not None
    assert _sign_in(app, "sterk@example.org", "wrong password") is None

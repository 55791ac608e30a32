"""Settings: precedence, the instance folder, the secret key, and clear errors for bad settings."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from surveyhub import config, create_app
from surveyhub.config import ConfigError

BASE = {"SECRET_KEY": "test", "PLUGINS_DIR": ""}


@pytest.fixture(autouse=True)
def no_surveyhub_settings_in_the_environment(monkeypatch):
    """Each test sets exactly the settings it is about (``make test`` exports SURVEYHUB_BASE_URL)."""
    for key in config.DEFAULTS:
        monkeypatch.delenv(config.ENV_PREFIX + key, raising=False)


def _app(tmp_path: Path, **settings):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), **BASE, **settings})
    app.extensions["surveyhub.db"].engine.dispose()
    return app


def run_cli(*args: str, instance: Path, **env: str) -> subprocess.CompletedProcess:
    """The ``surveyhub`` command as a user runs it, in its own process."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYHUB_")}
    clean.update({"SURVEYHUB_INSTANCE_PATH": str(instance), "SURVEYHUB_PLUGINS_DIR": ""}, **env)
    return subprocess.run([sys.executable, "-c", "from surveyhub.cli import main; main()", *args],
                          capture_output=True, text=True, env=clean, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]


# --- the database URL ---------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["nonsense", "postgresql//user@host/db", "://", "sqlite:/relative"])
def test_malformed_database_url_is_refused_in_one_line(url):
    with pytest.raises(ConfigError) as caught:
        config.check_database_url(url)
    message = str(caught.value)
    assert "SURVEYHUB_DATABASE_URL" in message
    assert "\n" not in message


@pytest.mark.parametrize("url, backend", [("mysql://u:p@localhost/surveyhub", "mysql"),
                                          ("oracle://u:p@localhost/x", "oracle"),
                                          ("mssql+pyodbc://u:p@dsn", "mssql")])
def test_unsupported_database_is_refused(url, backend):
    with pytest.raises(ConfigError, match=f"unsupported database '{backend}'"):
        config.check_database_url(url)


def test_missing_driver_is_refused_rather_than_crashing_later():
    with pytest.raises(ConfigError, match="driver 'nosuchdriver'"):
        config.check_database_url("postgresql+nosuchdriver://u:p@localhost/db")


@pytest.mark.parametrize("url", ["postgresql://u:p@db.example/surveyhub", "postgres://u:p@db.example/surveyhub"])
def test_plain_postgresql_urls_use_psycopg3(url):
    assert config.check_database_url(url) == "postgresql+psycopg://u:p@db.example/surveyhub"


def test_passwords_with_special_characters_survive():
    url = "postgresql://u:p%40ss%2Fw@db.example:6543/surveyhub"
    assert config.check_database_url(url) == "postgresql+psycopg://u:p%40ss%2Fw@db.example:6543/surveyhub"


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    app = _app(tmp_path)
    assert app.config["DATABASE_URL"] == f"sqlite:///{(tmp_path / 'instance' / 'surveyhub.sqlite3').resolve()}"


def test_create_app_refuses_a_malformed_url(tmp_path):
    with pytest.raises(ConfigError, match="not a database URL"):
        _app(tmp_path, DATABASE_URL="not a url")


# --- the command line says it in one line -------------------------------------------------------

def test_cli_malformed_database_url(tmp_path):
    result = run_cli("org", "create", "Buurtwerk", instance=tmp_path / "instance",
                     SURVEYHUB_DATABASE_URL="nonsense")
    assert_one_line_error(result, "SURVEYHUB_DATABASE_URL", "nonsense")


def test_cli_help_with_a_malformed_database_url(tmp_path):
    """Even listing the commands must not turn a settings error into a traceback."""
    result = run_cli("--help", instance=tmp_path / "instance", SURVEYHUB_DATABASE_URL="nonsense")
    assert_one_line_error(result, "SURVEYHUB_DATABASE_URL")


def test_cli_unsupported_database(tmp_path):
    result = run_cli("init", instance=tmp_path / "instance", SURVEYHUB_DATABASE_URL="mysql://u:p@localhost/db")
    assert_one_line_error(result, "mysql")


def test_cli_unwritable_instance_folder(tmp_path):
    blocker = tmp_path / "somefile"
    blocker.write_text("not a folder")
    result = run_cli("init", instance=blocker / "instance")
    assert_one_line_error(result, "instance folder", str(blocker / "instance"))


def test_cli_database_that_cannot_be_reached(tmp_path):
    result = run_cli("org", "create", "Buurtwerk", instance=tmp_path / "instance",
                     SURVEYHUB_DATABASE_URL="postgresql://nobody:secret@127.0.0.1:9/surveyhub")
    assert_one_line_error(result, "cannot reach the database")


def test_cli_bad_number_setting(tmp_path):
    result = run_cli("init", instance=tmp_path / "instance", SURVEYHUB_MIN_CELL="five")
    assert_one_line_error(result, "SURVEYHUB_MIN_CELL", "five")


def test_unwritable_instance_folder_is_one_clear_line(tmp_path):
    blocker = tmp_path / "somefile"
    blocker.write_text("")
    with pytest.raises(ConfigError) as caught:
        _app(tmp_path, INSTANCE_PATH=str(blocker / "instance"))
    assert "cannot create the instance folder" in str(caught.value)
    assert "\n" not in str(caught.value)


# --- the secret key -----------------------------------------------------------------------------

def test_secret_key_is_generated_once_with_owner_only_access(tmp_path):
    instance = tmp_path / "instance"
    first = create_app({"INSTANCE_PATH": str(instance), "PLUGINS_DIR": ""})
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = first.config["SECRET_KEY"]
    assert len(key) >= 32 and key == key_file.read_text().strip()

    again = create_app({"INSTANCE_PATH": str(instance), "PLUGINS_DIR": ""})
    assert again.config["SECRET_KEY"] == key
    assert [p.name for p in instance.iterdir() if p.name.startswith(".secret_key")] == []
    for app in (first, again):
        app.extensions["surveyhub.db"].engine.dispose()


def test_configured_secret_key_wins_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEYHUB_SECRET_KEY", "from-the-environment")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "PLUGINS_DIR": ""})
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "instance" / "secret_key").exists()
    app.extensions["surveyhub.db"].engine.dispose()


def test_an_empty_secret_key_file_is_never_used(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "secret_key").write_text("\n")
    with pytest.raises(ConfigError, match="secret key file .* is empty"):
        config.secret_key({"SECRET_KEY": None}, instance)


def test_workers_starting_together_share_one_key(tmp_path):
    for attempt in range(10):
        folder = tmp_path / f"instance{attempt}"
        folder.mkdir()
        keys, barrier = [], threading.Barrier(6)

        def start(barrier=barrier, keys=keys, folder=folder):  # this attempt's, bound now
            barrier.wait()
            keys.append(config.secret_key({"SECRET_KEY": None}, folder))

        threads = [threading.Thread(target=start) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(keys) == 6 and len(set(keys)) == 1 and keys[0]


# --- precedence: environment > instance/config.toml > defaults ----------------------------------

def test_settings_precedence(tmp_path):
    (tmp_path / "config.toml").write_text('base_url = "https://toml.example"\nmin_cell = 7\n'
                                          'login_rate_limit = "5 per minute"\n')
    settings = config.load_settings(tmp_path, environ={"SURVEYHUB_BASE_URL": "https://env.example",
                                                       "SURVEYHUB_MIN_PAIRS_TESTS": "12"})
    assert settings["BASE_URL"] == "https://env.example"  # environment beats the file
    assert settings["MIN_CELL"] == 7  # the file beats the default
    assert settings["LOGIN_RATE_LIMIT"] == "5 per minute"
    assert settings["MIN_PAIRS_TESTS"] == 12  # from the environment, as a number
    assert settings["MIN_PAIRS_MEANS"] == config.DEFAULTS["MIN_PAIRS_MEANS"]  # default


def test_empty_environment_variable_does_not_override(tmp_path):
    (tmp_path / "config.toml").write_text('base_url = "https://toml.example"\n')
    settings = config.load_settings(tmp_path, environ={"SURVEYHUB_BASE_URL": ""})
    assert settings["BASE_URL"] == "https://toml.example"


def test_precedence_in_the_app(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.toml").write_text('base_url = "https://toml.example/"\nmin_cell = 3\n')
    monkeypatch.setenv("SURVEYHUB_BASE_URL", "https://surveyhub.example.org/")
    app = create_app({"INSTANCE_PATH": str(instance), "PLUGINS_DIR": ""})
    assert app.config["BASE_URL"] == "https://surveyhub.example.org"  # trailing slash dropped
    assert app.config["MIN_CELL"] == 3
    app.extensions["surveyhub.db"].engine.dispose()


def test_malformed_config_file_is_one_clear_line(tmp_path):
    (tmp_path / "config.toml").write_text("base_url = \n")
    with pytest.raises(ConfigError) as caught:
        config.load_settings(tmp_path, environ={})
    assert str(caught.value).startswith(str(tmp_path / "config.toml"))
    assert "\n" not in str(caught.value)


def test_bad_whole_number_setting(tmp_path):
    with pytest.raises(ConfigError, match="SURVEYHUB_MAX_UPLOAD_BYTES must be a whole number"):
        config.load_settings(tmp_path, environ={"SURVEYHUB_MAX_UPLOAD_BYTES": "2MB"})


# --- settings that the web layer relies on ------------------------------------------------------

def test_upload_limit_and_cookie_settings_are_applied(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEYHUB_MAX_UPLOAD_BYTES", "4096")
    app = _app(tmp_path)
    assert app.config["MAX_CONTENT_LENGTH"] == 4096
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_oversized_request_gets_the_friendly_413_page(app_config):
    from surveyhub import create_app as build

    app = build({**app_config, "MAX_UPLOAD_BYTES": 1024})
    try:
        response = app.test_client().post("/login?lang=en", data={"email": "x" * 4096, "password": "y"})
        assert response.status_code == 413
        assert "File too large" in response.text
    finally:
        app.extensions["surveyhub.db"].engine.dispose()


def test_web_with_an_unreachable_database_shows_the_not_ready_page(tmp_path):
    app = _app(tmp_path, DATABASE_URL="postgresql://nobody:secret@127.0.0.1:9/surveyhub")
    response = app.test_client().get("/login?lang=en")
    assert response.status_code == 503
    assert "SurveyHub is not ready" in response.text
    assert "cannot reach the database" in response.text
    assert "secret" not in response.text  # the password in the URL is never shown

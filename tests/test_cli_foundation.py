"""The ``surveyhub`` commands for organisations, users, projects, waves, participants,
instruments and the database, driven the way a script or an administrator would.

User errors end with exit status non-zero and one line ``Error: ...`` on stderr,
never a traceback, and leave nothing half-written.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from surveyhub import create_app
from surveyhub.cli import cli
from surveyhub.models import Organisation, Participant, Project, Token, User, Wave
from surveyhub.services import accounts

BASE_URL = "http://surveyhub.test"  # set by conftest's app_config
GOOD_PASSWORD = "een lang wachtwoord"
FIVE = {"organising", "conversation", "cooperation", "confidence", "network"}
NEW = {"having_a_say", "neighbourhood"}


def invoke(runner, *args: str, stdin: str | None = None):
    """Run through the top-level ``surveyhub`` group, as the console script does, on the test app."""
    return runner.invoke(cli, list(args), input=stdin)


def assert_user_error(result, *fragments: str) -> None:
    """Non-zero exit, one line ``Error: ...`` on stderr, no traceback."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def count(session, model, *where) -> int:
    value = session.scalar(select(func.count()).select_from(model).where(*where))
    session.commit()  # end the read, so SQLite's write lock is free for the next command
    return value


@pytest.fixture
def org(runner):
    result = invoke(runner, "org", "create", "Buurtwerk Noord")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


@pytest.fixture
def project(runner, org):
    result = invoke(runner, "project", "create", "Buurttuin Noord", "--org", org, "--instrument", "organising")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


# --- org create ---------------------------------------------------------------------------------

def test_org_create_prints_the_slug(runner, session):
    result = invoke(runner, "org", "create", "Stichting Wijkkracht Zuid-Oost")
    assert result.exit_code == 0
    assert result.stdout == "stichting-wijkkracht-zuid-oost\n"
    assert count(session, Organisation, Organisation.slug == "stichting-wijkkracht-zuid-oost") == 1


def test_org_create_refuses_a_duplicate(runner, session, org):
    assert_user_error(invoke(runner, "org", "create", "buurtwerk  NOORD"), "already exists")
    assert count(session, Organisation) == 1


def test_org_create_refuses_an_empty_name(runner, session):
    assert_user_error(invoke(runner, "org", "create", "   "), "name")
    assert count(session, Organisation) == 0


# --- user create --------------------------------------------------------------------------------

def test_user_create_reads_the_password_from_stdin(runner, session, org):
    result = invoke(runner, "user", "create", "Opbouwwerker@Example.org", "--org", "Buurtwerk Noord",
                    "--role", "worker", "--password-stdin", stdin=GOOD_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "Created worker opbouwwerker@example.org in Buurtwerk Noord." in result.stdout
    assert GOOD_PASSWORD not in result.output
    info = accounts.authenticate(session, "opbouwwerker@example.org", GOOD_PASSWORD)
    session.rollback()
    assert info is not None and info.role == "worker"


def test_user_create_reads_a_piped_password_without_the_flag(runner, session, org):
    result = invoke(runner, "user", "create", "a@example.org", "--org", org, "--role", "admin",
                    stdin=GOOD_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert accounts.authenticate(session, "a@example.org", GOOD_PASSWORD) is not None
    session.rollback()


def test_user_create_generates_a_password_and_prints_it_once(runner, session, org):
    result = invoke(runner, "user", "create", "funder@example.org", "--org", org, "--role", "funder",
                    "--generate-password")
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("Password (shown once): ")]
    password = line.removeprefix("Password (shown once): ")
    assert len(password) >= 12
    assert result.output.count(password) == 1
    assert accounts.authenticate(session, "funder@example.org", password) is not None
    session.rollback()


def test_user_create_with_an_empty_stdin(runner, session, org):
    assert_user_error(invoke(runner, "user", "create", "a@example.org", "--org", org, "--role", "worker",
                             "--password-stdin", stdin=""), "password")
    assert count(session, User) == 0


def test_user_create_unknown_organisation(runner, session, org):
    result = invoke(runner, "user", "create", "a@example.org", "--org", "Buurtwerk Nergens", "--role", "worker",
                    "--generate-password")
    assert_user_error(result, "no organisation", "Buurtwerk Nergens")
    assert "Password" not in result.stdout
    assert count(session, User) == 0


def test_user_create_duplicate_email(runner, session, org):
    first = invoke(runner, "user", "create", "a@example.org", "--org", org, "--role", "worker", "--generate-password")
    assert first.exit_code == 0
    assert_user_error(invoke(runner, "user", "create", "A@Example.org", "--org", org, "--role", "admin",
                             "--generate-password"), "already exists")
    assert count(session, User) == 1


def test_user_create_bad_role(runner, session, org):
    result = invoke(runner, "user", "create", "a@example.org", "--org", org, "--role", "boss", "--generate-password")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "'boss'" in error and "admin" in error and "worker" in error and "funder" in error
    assert count(session, User) == 0


def test_user_create_bad_email(runner, session, org):
    for email in ("not-an-email", "a@", "a b@example.org"):
        assert_user_error(invoke(runner, "user", "create", email, "--org", org, "--role", "worker",
                                 "--generate-password"), "not a valid e-mail address")
    assert count(session, User) == 0


def test_user_create_short_password(runner, session, org):
    assert_user_error(invoke(runner, "user", "create", "a@example.org", "--org", org, "--role", "worker",
                             stdin="kort\n"), "at least 10 characters")
    assert count(session, User) == 0


# --- project create and waves -------------------------------------------------------------------

def _waves(session, slug: str) -> dict[str, str]:
    rows = session.execute(select(Wave.kind, Wave.status).join(Project).where(Project.slug == slug)).all()
    session.commit()
    return dict(rows)


def test_project_create_prints_the_slug_and_opens_the_pre_wave(runner, session, org):
    result = invoke(runner, "project", "create", "Speeltuin De Vlinder", "--org", org,
                    "--instrument", "organising", "--instrument", "network@2", "--retrospective")
    assert result.exit_code == 0, result.output
    assert result.stdout == "speeltuin-de-vlinder\n"
    assert _waves(session, "speeltuin-de-vlinder") == {"pre": "open", "post": "draft", "followup": "draft"}
    stored = session.scalar(select(Project).where(Project.slug == "speeltuin-de-vlinder"))
    assert stored.retrospective is True
    assert [(pi.instrument_id, pi.version) for pi in stored.instruments] == [("organising", 2), ("network", 2)]
    session.commit()


def test_project_create_same_name_gets_a_new_slug(runner, project, org):
    again = invoke(runner, "project", "create", "Buurttuin Noord", "--org", org, "--instrument", "organising")
    assert again.stdout == f"{project}-2\n"


def test_project_create_errors_add_nothing(runner, session, org):
    for args, fragment in [
        (["--org", "nergens", "--instrument", "organising"], "no organisation"),
        (["--org", org, "--instrument", "unknown_instrument"], "no instrument 'unknown_instrument'"),
        (["--org", org, "--instrument", "organising@99"], "organising@99"),
        (["--org", org, "--instrument", "organising@one"], "must be a number"),
        (["--org", org, "--instrument", "organising", "--instrument", "organising"], "twice"),
    ]:
        assert_user_error(invoke(runner, "project", "create", "Buurttuin", *args), fragment)
    assert count(session, Project) == 0


def test_wave_open_and_close(runner, session, project):
    opened = invoke(runner, "wave", "open", project, "post")
    assert opened.exit_code == 0 and opened.stdout == f"{project}: post wave open\n"
    closed = invoke(runner, "wave", "close", project, "pre")
    assert closed.exit_code == 0 and closed.stdout == f"{project}: pre wave closed\n"
    assert _waves(session, project) == {"pre": "closed", "post": "open", "followup": "draft"}
    # Doing it again changes nothing and is no error.
    assert invoke(runner, "wave", "close", project, "pre").exit_code == 0
    assert _waves(session, project)["pre"] == "closed"


def test_wave_unknown_project(runner):
    assert_user_error(invoke(runner, "wave", "open", "no-such-project", "post"), "no project 'no-such-project'")


def test_wave_unknown_kind(runner, session, project):
    result = invoke(runner, "wave", "open", project, "midterm")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "midterm" in result.stderr
    assert _waves(session, project) == {"pre": "open", "post": "draft", "followup": "draft"}


# --- participants add ---------------------------------------------------------------------------

def _token_of(link: str) -> str:
    assert link.startswith(f"{BASE_URL}/q/"), link
    return link.removeprefix(f"{BASE_URL}/q/")


def _random_bits(token: str) -> int:
    return len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8


def test_participants_add_count_prints_one_link_per_line(runner, session, project):
    result = invoke(runner, "participants", "add", project, "--count", "3")
    assert result.exit_code == 0, result.output
    links = result.stdout.splitlines()
    assert len(links) == 3
    tokens = [_token_of(link) for link in links]
    assert len(set(tokens)) == 3
    assert all(_random_bits(token) >= 128 for token in tokens)
    stored = set(session.scalars(select(Token.token)))
    session.commit()
    assert stored == set(tokens)


def test_participants_add_from_a_file(runner, session, project, tmp_path):
    roster = tmp_path / "bewoners.txt"
    roster.write_text("\ufeffFatima Yilmaz, fatima@example.org\n\nHenk de Vries\nSamira; samira@example.org\n",
                      encoding="utf-8")
    result = invoke(runner, "participants", "add", project, "--file", str(roster))
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    assert all(_token_of(link) for link in result.stdout.splitlines())
    rows = set(session.execute(select(Participant.display_name, Participant.email)).all())
    session.commit()
    assert rows == {("Fatima Yilmaz", "fatima@example.org"), ("Henk de Vries", None),
                    ("Samira", "samira@example.org")}


def test_participants_file_with_bad_lines_adds_nothing(runner, session, project, tmp_path):
    roster = tmp_path / "bewoners.txt"
    roster.write_text("Fatima, fatima@example.org\nHenk, henk-at-home\nSamira\nKees, kees.example.org\n",
                      encoding="utf-8")
    result = invoke(runner, "participants", "add", project, "--file", str(roster))
    assert_user_error(result, "line 2", "line 4", "nothing was added")
    assert "line 1" not in result.stderr and "line 3" not in result.stderr
    assert result.stdout == ""
    assert count(session, Participant) == 0


def test_participants_missing_file(runner, session, project, tmp_path):
    assert_user_error(invoke(runner, "participants", "add", project, "--file", str(tmp_path / "missing.txt")),
                      "missing.txt")
    assert count(session, Participant) == 0


def test_participants_needs_count_or_file(runner, project):
    for args in ([], ["--count", "2", "--file", "x.txt"]):
        result = invoke(runner, "participants", "add", project, *args)
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert "--count N or --file FILE" in result.stderr


def test_participants_count_out_of_range(runner, session, project):
    for number in ("0", "-1", "5001"):
        assert_user_error(invoke(runner, "participants", "add", project, "--count", number), "between 1 and 5000")
    assert count(session, Participant) == 0


def test_participants_unknown_project(runner):
    assert_user_error(invoke(runner, "participants", "add", "nowhere", "--count", "1"), "no project 'nowhere'")


# --- instruments --------------------------------------------------------------------------------

def test_instruments_list_shows_the_seven_instruments(runner, app):
    result = invoke(runner, "instruments", "list")
    assert result.exit_code == 0
    # Installed plugin packages may add more; the seven shipped ones come from the instruments folder.
    shipped = [line for line in result.stdout.splitlines() if f"({app.config['INSTRUMENTS_DIR']}/" in line]
    assert len(shipped) == 7
    assert {line.split("@")[0] for line in shipped} == FIVE | NEW
    # The five at version 2 (short forms, look-back wording); the two added for issue 14 at version 1.
    assert all(line.split("  ")[0].endswith("@1" if line.split("@")[0] in NEW else "@2") for line in shipped)


def test_instruments_show(runner):
    result = invoke(runner, "instruments", "show", "organising")
    assert result.exit_code == 0
    assert result.stdout.startswith("organising version 2")
    assert_user_error(invoke(runner, "instruments", "show", "nothing"), "no instrument 'nothing'")


def test_instruments_validate(runner, app, tmp_path):
    """Exit non-zero when any file is invalid; every error names its file."""
    good = Path(app.config["INSTRUMENTS_DIR"]) / "organising.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: one\n", encoding="utf-8")
    assert invoke(runner, "instruments", "validate", str(good)).exit_code == 0

    result = invoke(runner, "instruments", "validate", str(good), str(bad))
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert f"{good}: valid" in result.stdout
    assert all(line.startswith(str(bad)) for line in result.stderr.splitlines())
    assert "version" in result.stderr

    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n", encoding="utf-8")
    result = invoke(runner, "instruments", "validate", str(broken))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert str(broken) in result.stderr


# --- the database: init, and everything else before init ----------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path):
    """An app on a database that exists but has never been migrated."""
    settings = {"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test", "TESTING": True,
                "BASE_URL": BASE_URL, "PLUGINS_DIR": ""}
    if request.param == "postgresql":
        settings["DATABASE_URL"] = request.getfixturevalue("postgres_database")
    else:
        settings["DATABASE_URL"] = f"sqlite:///{tmp_path / 'instance' / 'surveyhub.sqlite3'}"
    application = create_app(settings)
    yield application
    application.extensions["surveyhub.db"].engine.dispose()


def test_init_creates_the_database_then_reports_it_up_to_date(empty_app):
    runner = empty_app.test_cli_runner()
    first = invoke(runner, "init")
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("Database created (schema ")
    tables = set(inspect(empty_app.extensions["surveyhub.db"].engine).get_table_names())
    assert {"organisations", "users", "projects", "waves", "participants", "responses", "tokens"} <= tables
    second = invoke(runner, "init")
    assert second.exit_code == 0
    assert second.stdout.startswith("Database is up to date")
    assert invoke(runner, "org", "create", "Buurtwerk").stdout == "buurtwerk\n"


def test_commands_before_init_say_to_run_init(empty_app):
    for args in (["org", "create", "Buurtwerk"],
                 ["user", "create", "a@example.org", "--org", "x", "--role", "worker", "--generate-password"],
                 ["project", "create", "Tuin", "--org", "x", "--instrument", "organising"],
                 ["wave", "open", "tuin", "post"],
                 ["participants", "add", "tuin", "--count", "1"],
                 ["demo"]):
        result = invoke(empty_app.test_cli_runner(), *args)
        assert_user_error(result, "surveyhub init")
        assert "Password" not in result.stdout
    assert inspect(empty_app.extensions["surveyhub.db"].engine).get_table_names() == []


def test_web_before_init_shows_the_not_ready_page(empty_app):
    client = empty_app.test_client()
    for path in ("/login?lang=en", "/", "/projects/x"):
        response = client.get(path)
        assert response.status_code == 503
        assert "SurveyHub is not ready" in response.text
        assert "surveyhub init" in response.text
        assert "Traceback" not in response.text
    assert invoke(empty_app.test_cli_runner(), "init").exit_code == 0
    assert client.get("/login").status_code == 200

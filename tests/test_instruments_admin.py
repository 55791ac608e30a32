"""Organisation admins upload their own instruments; instrument versions in use never change.

An upload is checked by the same code as installed instruments, plus limits
for hostile files; nothing is stored unless every check passes, and an upload
is visible to its own organisation only.
"""

from __future__ import annotations

import html
import io
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveyhub import create_app
from surveyhub.plugins import get_registry
from surveyhub.models import InstrumentVersion, Project
from surveyhub.services import access, instruments, projects
from surveyhub.services.errors import Conflict, NotFound
from tests.fixtures.factories import PASSWORD, csrf_token

ROOT = Path(__file__).resolve().parents[1]

VALID = """\
id: buurtquiz
version: 1
title: {nl: Buurtquiz, en: Neighbourhood quiz}
answer_sets:
  agree3:
    - {value: 1, label: {nl: Niet mee eens, en: Disagree}}
    - {value: 2, label: {nl: Neutraal, en: Neutral}}
    - {value: 3, label: {nl: Mee eens, en: Agree}}
scales:
  - id: knowing
    title: {nl: De buurt kennen, en: Knowing the neighbourhood}
    items:
      - {id: bq_1, type: choice, answer_set: agree3, text: {nl: Ik ken mijn buren., en: I know my neighbours.}}
      - id: bq_2
        type: choice
        answer_set: agree3
        text: {nl: Ik weet waar het buurthuis is., en: I know where the community centre is.}
    scoring: {method: mean, min_answered: 1}
"""


@pytest.fixture
def admin(make_org, make_user, login):
    org = make_org("Buurtwerk Noord")
    user = make_user("admin", org=org)
    login(user.email)
    return org


def upload(client, content: str | bytes, filename: str = "buurtquiz.yaml", token: str | None = None):
    if token is None:
        token = csrf_token(client.get("/admin/instruments?lang=en").text)
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post("/admin/instruments", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", follow_redirects=True)


def stored_uploads(session) -> int:
    count = session.scalar(select(func.count()).select_from(InstrumentVersion)
                           .where(InstrumentVersion.scope.like("org:%")))
    session.rollback()  # end the read: SQLite takes its write lock at the start of every transaction
    return count


def shown_errors(page) -> list[str]:
    """The messages in the page's error summary, unescaped."""
    summary = re.search(r'<div class="error-summary" role="alert">(.*?)</div>', page.text, re.S)
    assert summary, "the page shows no error summary"
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", summary.group(1), re.S)]


# --- a valid upload --------------------------------------------------------------------

def test_a_valid_upload_is_stored_for_the_organisation_only(app, client, session, admin, make_org, make_user,
                                                          make_project):
    page = upload(client, VALID)
    assert page.status_code == 200
    assert 'href="/admin/instruments/buurtquiz/1"' in page.text
    assert stored_uploads(session) == 1
    detail = client.get("/admin/instruments/buurtquiz/1")
    assert detail.status_code == 200 and "Ik weet waar het buurthuis is." in detail.text
    assert make_project(admin, instruments=("buurtquiz",)).instruments == ["buurtquiz@1"]

    other = make_org("Dorpsondersteuning Zuid")
    other_admin = app.test_client()
    page = other_admin.get("/login")
    other_admin.post("/login", data={"csrf_token": csrf_token(page.text), "email": make_user("admin", org=other).email,
                                     "password": PASSWORD})
    listing = other_admin.get("/admin/instruments")
    assert listing.status_code == 200 and "organising" in listing.text and "buurtquiz" not in listing.text
    assert other_admin.get("/admin/instruments/buurtquiz/1").status_code == 404
    with pytest.raises(NotFound, match="no instrument 'buurtquiz'"):
        make_project(other, instruments=("buurtquiz",))


def test_uploading_the_same_file_twice_stores_it_once(client, session, admin):
    upload(client, VALID)
    upload(client, VALID)
    assert stored_uploads(session) == 1


def test_html_in_a_title_is_stored_as_text_and_shown_escaped(client, session, admin):
    hostile = VALID.replace("title: {nl: Buurtquiz, en: Neighbourhood quiz}",
                            "title: {nl: \"<script>alert('buurt')</script> Quiz\", "
                            "en: \"<script>alert('buurt')</script>\"}")
    hostile = hostile.replace("Ik ken mijn buren.", "\"<img src=x onerror=alert(1)> Ik ken mijn buren.\"")
    upload(client, hostile)
    assert stored_uploads(session) == 1
    stored = session.scalar(select(InstrumentVersion).where(InstrumentVersion.instrument_id == "buurtquiz"))
    assert stored.definition["title"]["nl"] == "<script>alert('buurt')</script> Quiz"
    session.rollback()
    for url in ("/admin/instruments/buurtquiz/1", "/admin/instruments"):
        page = client.get(url).text
        assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
    detail = client.get("/admin/instruments/buurtquiz/1").text
    assert "<img src=x" not in detail and "&lt;img src=x onerror=alert(1)&gt; Ik ken mijn buren." in detail


# --- uploads that are refused -----------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
id: laughs
"""

REFUSED = {
    "yaml-syntax": ("id: buurtquiz\ntitle: {nl: Buurtquiz\nversion: 1\n",
                    "buurtquiz.yaml: line 3 column 8: expected ',' or '}', but got ':'"),
    "a-list": ("- id: buurtquiz\n  version: 1\n",
               "buurtquiz.yaml: the file must be a mapping of keys (id, version, title, ...), got a list"),
    "unknown-key": (VALID + "colour: blue\n", "buurtquiz.yaml: (root): unknown key 'colour'"),
    "missing-id": (VALID.replace("id: buurtquiz\n", ""), "buurtquiz.yaml: (root): 'id' is required"),
    "missing-version": (VALID.replace("version: 1\n", ""), "buurtquiz.yaml: (root): 'version' is required"),
    "duplicate-item-id": (VALID.replace("- id: bq_2", "- id: bq_1"),
                          "buurtquiz.yaml: scales[0].items[1].id: item id 'bq_1' is already used at "
                          "scales[0].items[0]"),
    "unknown-answer-set": (VALID.replace("        answer_set: agree3\n", "        answer_set: agree5\n"),
                           "buurtquiz.yaml: scales[0].items[1].answer_set: unknown answer set 'agree5' "
                           "(known: agree3)"),
    "unknown-scoring-method": (VALID.replace("method: mean", "method: median"),
                               "buurtquiz.yaml: scales[0].scoring.method: unknown scoring method 'median'"),
    "too-large": (VALID + "# " + "x" * (256 * 1024) + "\n", "buurtquiz.yaml is larger than 256 kB."),
    "billion-laughs": (BILLION_LAUGHS, "buurtquiz.yaml: line 1 column 4: anchors and aliases ('&' and '*') "
                                       "are not allowed; write the text out in full"),
    "python-tag": ("id: !!python/object/apply:os.system [\"touch /tmp/surveyhub-owned\"]\n",
                   "buurtquiz.yaml: line 1 column 5: the tag '!!python/object/apply:os.system' is not allowed"),
    "not-utf8": ("id: caf\xe9\n".encode("latin-1"), "buurtquiz.yaml is not a UTF-8 text file."),
    "installed-id": (VALID.replace("id: buurtquiz", "id: organising"),
                     "buurtquiz.yaml: the id 'organising' belongs to an installed instrument; choose another id"),
}


@pytest.mark.parametrize(("content", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_a_bad_upload_is_refused_with_a_clear_message_and_nothing_is_stored(client, session, admin, content,
                                                                          message):
    page = upload(client, content)
    assert page.status_code == 200
    errors = shown_errors(page)
    assert any(error.startswith(message) for error in errors), errors
    assert stored_uploads(session) == 0
    assert 'href="/admin/instruments/buurtquiz/1"' not in page.text


def test_every_problem_in_a_file_is_listed_at_once(client, session, admin):
    content = (VALID.replace("- id: bq_2", "- id: bq_1").replace("method: mean", "method: median")
               + "colour: blue\n")
    assert len(shown_errors(upload(client, content))) == 3
    assert stored_uploads(session) == 0


def test_a_changed_upload_under_the_same_version_is_refused(client, session, admin):
    upload(client, VALID)
    page = upload(client, VALID.replace("Ik ken mijn buren.", "Ik ken veel buren."))
    assert shown_errors(page) == ["buurtquiz.yaml: buurtquiz version 1 already exists with other content; "
                                  "raise the version number"]
    upload(client, VALID.replace("Ik ken mijn buren.", "Ik ken veel buren.").replace("version: 1", "version: 2"))
    assert stored_uploads(session) == 2


def test_an_upload_without_a_csrf_token_is_refused(client, session, admin):
    assert upload(client, VALID, token="forged").status_code == 400
    assert stored_uploads(session) == 0


def test_a_worker_may_not_upload(client, session, make_user, login):
    token = csrf_token(client.get("/login").text)
    login(make_user("worker").email)
    assert client.get("/admin/instruments").status_code == 403
    assert upload(client, VALID, token=token).status_code == 403
    assert client.get("/admin/instruments/organising/2").status_code == 403
    assert stored_uploads(session) == 0


# --- instrument versions in use never change -----------------------------------------

def test_a_used_instrument_version_cannot_change_under_the_same_version(app, app_config, session, make_org,
                                                                        make_project, tmp_path):
    org = make_org()
    actor = access.Actor(organisation_id=org.id, role="admin")
    first = make_project(org, instruments=("organising@2",))
    pinned = get_registry(app).get("organising", 2).definition

    changed_dir = tmp_path / "instruments-changed"
    shutil.copytree(ROOT / "instruments", changed_dir)
    organising = changed_dir / "organising.yaml"
    organising.write_text(organising.read_text(encoding="utf-8").replace(
        "Ik kan een buurtactiviteit van begin tot eind plannen.", "Ik kan een buurtfeest helemaal zelf plannen."),
        encoding="utf-8")
    changed = create_app({**app_config, "INSTRUMENTS_DIR": str(changed_dir)})
    try:
        with changed.app_context(), changed.extensions["surveyhub.db"].session() as other_session:
            registry = get_registry(changed)
            with pytest.raises(Conflict, match=r"instrument organising version 2 changed since it was first used "
                                               r"\(.*organising.yaml\); raise its version number"):
                projects.create_project(other_session, registry, actor, "Speeltuin", ["organising@2"])
            other_session.rollback()
            with pytest.raises(Conflict, match="raise its version number"):
                instruments.snapshot(other_session, registry, org.id, "organising")
            assert instruments.changed_versions(other_session, registry) == [
                f"{organising}: instrument organising version 2 differs from the version already in use; "
                "raise the version number"]
    finally:
        changed.extensions["surveyhub.db"].engine.dispose()

    session.expire_all()
    project = access.project(session, actor, first.slug, "project.setup")
    [snapshot] = [pinned_instrument.snapshot for pinned_instrument in project.instruments]
    assert snapshot.definition == pinned
    assert snapshot.definition["scales"][0]["items"][0]["text"]["nl"] == (
        "Ik kan een buurtactiviteit van begin tot eind plannen.")
    assert list(session.scalars(select(Project.name).where(Project.organisation_id == org.id))) == ["Buurttuin"]


def test_a_new_version_can_be_installed_beside_the_used_one(app, app_config, session, make_org, make_project,
                                                           tmp_path):
    org = make_org()
    make_project(org, instruments=("organising@2",))
    folder = tmp_path / "instruments-v3"
    shutil.copytree(ROOT / "instruments", folder)
    text = (folder / "organising.yaml").read_text(encoding="utf-8")
    (folder / "organising_v3.yaml").write_text(
        text.replace("version: 2", "version: 3").replace("van begin tot eind", "helemaal zelf"),
        encoding="utf-8")
    newer = create_app({**app_config, "INSTRUMENTS_DIR": str(folder)})
    try:
        with newer.app_context(), newer.extensions["surveyhub.db"].session() as other_session:
            actor = access.Actor(organisation_id=org.id, role="admin")
            info = projects.create_project(other_session, get_registry(newer), actor, "Speeltuin", ["organising"])
            other_session.commit()
            assert info.instruments == ["organising@3"]  # the newest version, beside version 2 in use
    finally:
        newer.extensions["surveyhub.db"].engine.dispose()


def test_a_version_no_longer_installed_keeps_serving_the_projects_that_pin_it(app, app_config, session, make_org,
                                                                              make_project, tmp_path):
    # Version 1 of the shipped five left the instruments folder when version 2 came: projects that pinned it
    # keep their snapshot, and their edit form, the chooser and the admin page still find it.
    org, other = make_org(), make_org("Dorpsondersteuning Zuid")
    first = make_project(org, instruments=("organising@2",))
    folder = tmp_path / "instruments-v3-only"
    shutil.copytree(ROOT / "instruments", folder)
    text = (folder / "organising.yaml").read_text(encoding="utf-8")
    (folder / "organising.yaml").write_text(
        text.replace("version: 2", "version: 3").replace("van begin tot eind", "helemaal zelf"), encoding="utf-8")
    newer = create_app({**app_config, "INSTRUMENTS_DIR": str(folder)})
    try:
        with newer.app_context(), newer.extensions["surveyhub.db"].session() as other_session:
            registry = get_registry(newer)
            assert registry.get("organising", 2) is None
            actor = access.Actor(organisation_id=org.id, role="admin")
            kept = instruments.snapshot(other_session, registry, org.id, "organising@2")
            assert kept.version == 2 and "van begin tot eind" in str(kept.definition)
            assert instruments.definition_for(other_session, registry, org.id, "organising", 2)[1] == "snapshot"
            refs = [c.ref for c in instruments.chooser(other_session, registry, org.id, "nl")]
            assert refs.index("organising@3") < refs.index("organising@2")  # the newest first
            info = projects.update_project(other_session, registry, actor, first.slug, "Buurttuin Oost", None,
                                           False, ["organising@2"])
            assert info.instruments == ["organising@2"]
            assert projects.create_project(other_session, registry, actor, "Speeltuin",
                                           ["organising"]).instruments == ["organising@3"]
            # Another organisation never pinned version 2: for it, the version is simply not there.
            assert "organising@2" not in [c.ref for c in instruments.chooser(other_session, registry, other.id, "nl")]
            with pytest.raises(NotFound, match="no instrument 'organising@2'"):
                instruments.snapshot(other_session, registry, other.id, "organising@2")
            assert instruments.definition_for(other_session, registry, other.id, "organising", 2) is None
            other_session.rollback()
    finally:
        newer.extensions["surveyhub.db"].engine.dispose()

"""Service error messages reach a Dutch reader in Dutch, and NotFound still reaches them as a 404.

Services raise English msgids marked ``N_`` (``surveyhub.services.errors``); the web translates
them where it shows them. These tests hold the catalog to every marked msgid and drive the
routes that show service errors in the default language, Dutch.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import surveyhub
from surveyhub.services import accounts, projects
from surveyhub.services.access import Actor
from surveyhub.services.errors import (N_, Conflict, Forbidden, Invalid, Message, NotFound, ServiceError,
                                       UserError)
from tests.fixtures.factories import csrf_token

PACKAGE = Path(surveyhub.__file__).parent
CATALOG = PACKAGE / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sr]")
USER_ERRORS = {"UserError", "Invalid", "Conflict", "ServiceError"}


def marked_msgids() -> dict[str, str]:
    """Every ``N_("...")`` msgid in the services, with the file it is in."""
    found = {}
    for path in sorted((PACKAGE / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
                assert isinstance(node.args[0], ast.Constant), f"{path.name}:{node.lineno}: N_ needs a literal"
                found[node.args[0].value] = path.name
    return found


def english_fragments() -> set[str]:
    """The fixed words of every marked msgid (between its parameters) that would betray English."""
    return {part.strip(" :;()'") for msgid in marked_msgids()
            for part in PLACEHOLDER.split(msgid)[::2] if len(part.strip(" :;()'")) >= 12}


@pytest.fixture(scope="module")
def catalog():
    with CATALOG.open("rb") as fh:
        return read_po(fh)


# --- the catalog -----------------------------------------------------------------------------------

def test_every_marked_service_message_has_a_dutch_translation(catalog):
    msgids = marked_msgids()
    assert len(msgids) >= 50  # the service messages are marked, not only a few
    missing = sorted(msgid for msgid in msgids if not (catalog.get(msgid) and catalog.get(msgid).string))
    assert missing == []
    for msgid in msgids:
        translated = catalog.get(msgid).string
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(msgid)), msgid
        assert translated != msgid, f"not translated: {msgid!r}"


def test_no_service_raises_a_user_error_with_an_unmarked_message():
    """An f-string or a bare literal would reach the Dutch page in English."""
    unmarked = []
    for path in sorted((PACKAGE / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and getattr(node.exc.func, "id", None) in USER_ERRORS and node.exc.args):
                first = node.exc.args[0]
                if not (isinstance(first, ast.Call) and getattr(first.func, "id", None) == "N_"):
                    unmarked.append(f"{path.name}:{node.lineno}")
    assert unmarked == []


# --- the error classes -----------------------------------------------------------------------------

def test_not_found_and_forbidden_are_not_user_errors():
    """A route that shows user errors lets these through to their 404 and 403 pages."""
    assert not issubclass(NotFound, UserError) and not issubclass(Forbidden, UserError)
    assert issubclass(Invalid, UserError) and issubclass(Conflict, UserError)
    assert all(issubclass(cls, ServiceError) for cls in (NotFound, Forbidden, Invalid, Conflict))


def test_a_message_reads_in_english_and_translates_with_its_parameters_and_nested_messages():
    error = Invalid(N_("nothing was added: %(problems)s"),
                    problems=[Message(N_("line %(number)s: the name is longer than 200 characters"), number=3)])
    assert str(error) == "nothing was added: line 3: the name is longer than 200 characters"
    assert str(Invalid("cannot write 100% of it")) == "cannot write 100% of it"  # no parameters, no formatting

    dutch = {"nothing was added: %(problems)s": "Er is niemand toegevoegd: %(problems)s",
             "line %(number)s: the name is longer than 200 characters": "regel %(number)s: de naam is te lang"}

    def gettext(msgid, **params):
        return dutch[msgid] % params if params else dutch[msgid]
    assert error.translated(gettext) == "Er is niemand toegevoegd: regel 3: de naam is te lang"


def test_the_english_wording_of_a_service_error_is_kept_for_the_command_line(session, make_org):
    org = make_org("Buurtwerk Noord")
    with pytest.raises(Conflict) as raised:
        accounts.create_organisation(session, "Buurtwerk Noord")
    assert str(raised.value) == "an organisation called 'Buurtwerk Noord' already exists"
    with pytest.raises(Invalid) as raised:
        projects.create_project(session, None, Actor(organisation_id=org.id, role="admin"), " ", ["organising"], False)
    assert str(raised.value) == "a project needs a name"


# --- through the web, in Dutch ---------------------------------------------------------------------

@pytest.fixture
def setting(make_org, make_user, make_project):
    org = make_org("Buurtwerk Noord")
    return {"org": org, "project": make_project(org, "Buurttuin"), "admin": make_user("admin", org),
            "worker": make_user("worker", org), "stranger_project": make_project(make_org("Welzijn Zuid"), "Elders")}


def shown_text(page) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page.text))


def assert_dutch(page, dutch: str) -> None:
    """The Dutch message is on the page and none of the service messages' English words are."""
    assert page.status_code == 200
    text = shown_text(page)
    assert dutch in text
    leaked = sorted(fragment for fragment in english_fragments() if fragment in text)
    assert leaked == []


def _post(client, form_page: str, url: str, **data):
    token = csrf_token(client.get(form_page).text)
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=True)


def test_a_worker_reads_service_errors_in_dutch(client_for, setting):
    worker, slug = client_for(setting["worker"].email), setting["project"].slug
    not_a_funder = _post(worker, f"/projects/{slug}", f"/projects/{slug}/share", funder="iemand@example.org",
                         shared="1")
    assert_dutch(not_a_funder, "'iemand@example.org' is geen financier van deze organisatie.")

    unknown_wave = _post(worker, f"/projects/{slug}", f"/projects/{slug}/waves/halverwege/open")
    assert_dutch(unknown_wave, "Onbekende meting 'halverwege' (kies pre, post of followup).")

    bad_lines = _post(worker, f"/projects/{slug}/participants", f"/projects/{slug}/participants",
                      names="Anna\nBram, geen-adres\n")
    assert_dutch(bad_lines, "Er is niemand toegevoegd: regel 2: 'geen-adres' is geen e-mailadres")

    number = _post(worker, f"/projects/{slug}/questionnaire", f"/projects/{slug}/questionnaire", qtype="number",
                   text_nl="Hoe vaak?", minimum="5", maximum="1")
    assert_dutch(number, "Een getalvraag heeft een minimum onder het maximum nodig.")


def test_an_admin_reads_service_errors_in_dutch(client_for, setting):
    admin = client_for(setting["admin"].email)
    worker_id = setting["worker"].id
    unknown_role = _post(admin, "/admin/users", f"/admin/users/{worker_id}/role", role="baas")
    assert_dutch(unknown_role, "Onbekende rol 'baas' (kies admin, worker of funder).")


def test_another_organisations_project_is_still_a_404_where_user_errors_are_shown(client_for, setting):
    """The routes no longer re-raise NotFound before showing user errors; it must still reach the 404 page."""
    worker, slug = client_for(setting["worker"].email), setting["project"].slug
    token = csrf_token(worker.get(f"/projects/{slug}").text)
    other = setting["stranger_project"].slug
    assert worker.post(f"/projects/{other}/waves/post/open", data={"csrf_token": token}).status_code == 404
    assert worker.post(f"/projects/{other}/share", data={"csrf_token": token, "funder": "x@example.org",
                                                          "shared": "1"}).status_code == 404
    admin = client_for(setting["admin"].email)
    token = csrf_token(admin.get("/admin/users").text)
    assert admin.post("/admin/users/999999/role", data={"csrf_token": token, "role": "worker"}).status_code == 404
    revoke = admin.post(f"/projects/{slug}/documents/NO-SUCH-CODE/revoke", data={"csrf_token": token, "reason": "fout"})
    assert revoke.status_code == 404

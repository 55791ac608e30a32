"""The worker's web shell: the dashboard, the language switch, and the page structure that
keyboard and screen-reader users rely on (skip link, one <main>, labelled fields)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.fixtures.factories import csrf_token
from tests.fixtures.factories import sqlite_database_url as database_url  # noqa: F401  (SQLite only)


class PageStructure(HTMLParser):
    """What a screen reader would find: landmarks, links, form fields and their labels."""

    FIELD_TAGS = {"input", "select", "textarea"}
    UNLABELLED_INPUTS = {"hidden", "submit", "button", "reset", "image"}

    def __init__(self, html: str):
        super().__init__()
        self.html_lang = None
        self.mains: list[dict] = []
        self.links: list[dict] = []
        self.fields: list[dict] = []
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.first_link = None
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        elif tag == "main":
            self.mains.append(attrs)
        elif tag == "a":
            self.links.append(attrs)
            self.first_link = self.first_link or attrs
        elif tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag == "title":
            self._in_title = True
        if tag in self.FIELD_TAGS and attrs.get("type") not in self.UNLABELLED_INPUTS:
            self.fields.append({**attrs, "_tag": tag, "_inside_label": self.open_labels > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def unlabelled(self) -> list[str]:
        return [field.get("name") or field["_tag"] for field in self.fields
                if not (field.get("id") in self.label_for or field["_inside_label"]
                        or field.get("aria-label") or field.get("aria-labelledby"))]


def assert_accessible_shell(html: str) -> PageStructure:
    page = PageStructure(html)
    assert page.html_lang in ("nl", "en")
    assert page.title.strip(), "every page has a title"
    assert len(page.mains) == 1 and page.mains[0].get("id") == "main"
    assert page.first_link is not None and page.first_link.get("href") == "#main", "skip link comes first"
    assert page.unlabelled() == []
    return page


@pytest.fixture
def worker_setup(make_org, make_user, make_project):
    own, other = make_org("Buurtwerk Noord"), make_org("Welzijn Zuid")
    worker = make_user("worker", own)
    admin = make_user("admin", own)
    mine = [make_project(own, "Buurttuin Noord"), make_project(own, "Repair Café")]
    theirs = make_project(other, "Geheim Project Zuid")
    return {"worker": worker, "admin": admin, "mine": mine, "theirs": theirs}


# --- dashboard ----------------------------------------------------------------------------------

def test_dashboard_lists_only_own_projects(client_for, worker_setup):
    worker = client_for(worker_setup["worker"].email)
    page = worker.get("/")
    assert page.status_code == 200
    for project in worker_setup["mine"]:
        assert f'href="/projects/{project.slug}"' in page.text
        assert project.name in page.text
    assert worker_setup["theirs"].name not in page.text
    assert worker_setup["theirs"].slug not in page.text


def test_dashboard_without_projects(client_for, make_user):
    worker = client_for(make_user("worker").email)
    page = worker.get("/?lang=en")
    assert "There are no projects yet." in page.text
    assert 'href="/projects/new"' in page.text


def test_project_page_shows_waves_and_counts(client_for, worker_setup):
    worker = client_for(worker_setup["worker"].email)
    project = worker_setup["mine"][0]
    page = worker.get(f"/projects/{project.slug}?lang=en")
    assert page.status_code == 200
    assert "Pre wave (nulmeting)" in page.text
    assert "0 residents in this project." in page.text
    assert re.search(r"Pre wave \(nulmeting\)</th>\s*<td[^>]*>open</td>", page.text)  # data-label: stacks on a phone
    assert re.search(r"Post wave \(eindmeting\)</th>\s*<td[^>]*>not opened</td>", page.text)


# --- language -----------------------------------------------------------------------------------

def test_dutch_by_default_and_the_switch_persists(client):
    assert PageStructure(client.get("/login").text).html_lang == "nl"
    english = client.get("/login?lang=en")
    assert PageStructure(english.text).html_lang == "en"
    assert "Log in" in english.text
    # Remembered in the session: the next page, without ?lang, is still English.
    assert PageStructure(client.get("/login").text).html_lang == "en"
    # An unknown language changes nothing.
    assert PageStructure(client.get("/login?lang=xx").text).html_lang == "en"
    assert PageStructure(client.get("/login?lang=nl").text).html_lang == "nl"
    assert PageStructure(client.get("/login").text).html_lang == "nl"


def test_language_persists_after_logging_in(client_for, make_user):
    worker = client_for(make_user("worker").email)
    worker.get("/?lang=en")
    assert PageStructure(worker.get("/").text).html_lang == "en"


def test_the_switch_offers_the_other_language(client):
    dutch = PageStructure(client.get("/login").text)
    offered = [link for link in dutch.links if link.get("hreflang")]
    assert [(link["href"], link["hreflang"], link.get("lang")) for link in offered] == [("?lang=en", "en", "en")]
    english = PageStructure(client.get("/login?lang=en").text)
    assert [link["hreflang"] for link in english.links if link.get("hreflang")] == ["nl"]


# --- structure: skip link, main, labelled fields ------------------------------------------------

def test_login_page_structure(client):
    page = assert_accessible_shell(client.get("/login").text)
    names = {field.get("name") for field in page.fields}
    assert {"email", "password"} <= names
    email = next(f for f in page.fields if f.get("name") == "email")
    assert email.get("autocomplete") == "username"


def test_worker_pages_structure(client_for, worker_setup):
    worker = client_for(worker_setup["worker"].email)
    slug = worker_setup["mine"][0].slug
    for path in ("/", "/projects/new", f"/projects/{slug}", f"/projects/{slug}/edit", "/projects/nothing"):
        response = worker.get(path)
        assert response.status_code in (200, 404), path
        assert_accessible_shell(response.text)


def test_project_form_fields_are_labelled_and_grouped(client_for, worker_setup):
    worker = client_for(worker_setup["worker"].email)
    html = worker.get("/projects/new").text
    page = assert_accessible_shell(html)
    checkboxes = [f for f in page.fields if f.get("type") == "checkbox" and f.get("name") == "instruments"]
    assert len(checkboxes) >= 5
    assert "<fieldset" in html and "<legend>" in html  # the instrument checkboxes form one group


def test_admin_pages_structure(client_for, worker_setup):
    admin = client_for(worker_setup["admin"].email)
    for path in ("/admin/users", "/admin/instruments", "/admin/plugins", "/admin/audit"):
        response = admin.get(path)
        assert response.status_code == 200, path
        assert_accessible_shell(response.text)


def test_form_errors_are_tied_to_their_fields(client_for, worker_setup):
    worker = client_for(worker_setup["worker"].email)
    token = csrf_token(worker.get("/projects/new").text)
    response = worker.post("/projects/new?lang=en", data={"csrf_token": token, "name": ""})
    assert response.status_code == 200
    page = assert_accessible_shell(response.text)
    name = next(f for f in page.fields if f.get("name") == "name")
    assert name.get("aria-invalid") == "true"
    assert f'id="{name["aria-describedby"].strip()}"' in response.text


def test_error_pages_keep_the_shell(client_for, worker_setup):
    worker = client_for(worker_setup["worker"].email)
    missing = worker.get("/no/such/page?lang=en")
    assert missing.status_code == 404
    assert "Not found" in missing.text
    assert_accessible_shell(missing.text)
    forbidden = worker.get("/admin/users")
    assert forbidden.status_code == 403
    assert_accessible_shell(forbidden.text)


def test_logged_in_pages_have_a_logout_button_with_csrf(client_for, worker_setup):
    worker = client_for(worker_setup["worker"].email)
    html = worker.get("/").text
    logout = re.search(r'<form method="post" action="/logout"[^>]*>(.*?)</form>', html, re.S)
    assert logout and 'name="csrf_token"' in logout.group(1)

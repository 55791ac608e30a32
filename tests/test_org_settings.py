"""The organisation settings page: every field saved and audited, thresholds never looser than the
installation's, a signing key made or imported in the browser, admins only."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from surveyhub.models import AuditEvent, Organisation
from surveyhub.rendering.signing import create_key_pair, fingerprint
from tests.fixtures.factories import csrf_token
from tests.fixtures.factories import sqlite_database_url as database_url  # noqa: F401  (SQLite only)


GOOD = {"name": "Buurtwerk Noord-Oost", "brand_colour": "#2A7F62", "contact": "030 123 45 67",
        "certificate_orientation": "portrait", "certificate_language": "en", "retention_months": "36",
        "min_pairs_means": "8", "min_pairs_tests": "12", "min_cell": "6", "shares_reference": "y"}


def _post(client, **changes):
    page = client.get("/admin/settings?lang=nl")
    return client.post("/admin/settings?lang=nl", data={"csrf_token": csrf_token(page.text), **GOOD, **changes})


def _org(session, org_people) -> Organisation:
    session.expire_all()
    return session.get(Organisation, org_people["org"].id)


def _events(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_every_setting_is_saved_and_audited(client_for, org_people, session, app):
    admin = client_for(org_people["admin"].email)
    page = admin.get("/admin/settings?lang=nl")
    assert page.status_code == 200
    assert app.config["BASE_URL"] in page.text and "SURVEYHUB_BASE_URL" in page.text
    assert 'value="Buurtwerk Noord"' in page.text and 'value="#1f5f8b"' in page.text, "what is stored is shown"
    assert _post(admin).status_code == 302
    org = _org(session, org_people)
    assert (org.name, org.brand_colour, org.contact, org.certificate_orientation, org.certificate_language,
            org.retention_months) == ("Buurtwerk Noord-Oost", "#2a7f62", "030 123 45 67", "portrait", "en", 36)
    assert (org.min_pairs_means, org.min_pairs_tests, org.min_cell) == (8, 12, 6)
    [event] = _events(session, "organisation.settings")
    assert set(event.details["changed"]) == {"name", "brand_colour", "contact", "certificate_orientation",
                                             "certificate_language", "retention_months", "min_pairs_means",
                                             "min_pairs_tests", "min_cell"}
    assert event.details["min_cell"] == {"from": None, "to": 6}
    assert "contact" not in event.details  # only that it changed: it may hold a person's number
    page = admin.get("/admin/settings")
    assert 'value="Buurtwerk Noord-Oost"' in page.text and 'value="#2a7f62"' in page.text
    assert re.search(r'<option selected value="en">|<option value="en" selected', page.text)
    # saving the same again changes nothing and records nothing
    assert _post(admin).status_code == 302
    assert len(_events(session, "organisation.settings")) == 1


def test_empty_fields_fall_back_to_the_defaults(client_for, org_people, session):
    admin = client_for(org_people["admin"].email)
    _post(admin)
    _post(admin, certificate_language="", retention_months="", min_pairs_means="", min_pairs_tests="", min_cell="",
          contact="")
    org = _org(session, org_people)
    assert (org.certificate_language, org.retention_months, org.min_pairs_means, org.min_pairs_tests,
            org.min_cell, org.contact) == (None, None, None, None, None, None)


@pytest.mark.parametrize("changes, message", [
    ({"min_pairs_means": "2"}, "niet ruimer"),
    ({"min_cell": "1"}, "niet ruimer"),
    ({"min_pairs_means": "20", "min_pairs_tests": "15"}, "minstens zoveel paren"),
    ({"brand_colour": "rood"}, "#1f5f8b"),
    ({"name": ""}, "Geef de organisatie een naam."),
    ({"retention_months": "500"}, "van 1 tot 120"),
])
def test_bad_input_says_what_to_do_and_keeps_what_was_typed(client_for, org_people, session, changes, message):
    admin = client_for(org_people["admin"].email)
    response = _post(admin, **changes)
    assert response.status_code == 200
    assert message in response.text
    assert 'value="030 123 45 67"' in response.text, "the rest of the typing is kept"
    org = _org(session, org_people)
    assert org.name == "Buurtwerk Noord" and org.min_pairs_means is None
    assert _events(session, "organisation.settings") == []


def test_a_name_another_organisation_has_is_refused(client_for, org_people, make_org, session):
    make_org("Welzijn Zuid")
    response = _post(client_for(org_people["admin"].email), name="Welzijn Zuid")
    assert response.status_code == 200 and "heeft deze naam al" in response.text


def test_signing_key_made_replaced_only_when_asked(client_for, org_people, session):
    admin = client_for(org_people["admin"].email)
    token = csrf_token(admin.get("/admin/settings").text)
    assert admin.post("/admin/settings/signing-key", data={"csrf_token": token}).status_code == 302
    first = _org(session, org_people).signing_cert_pem
    assert first and fingerprint(first) in admin.get("/admin/settings").text
    admin.post("/admin/settings/signing-key", data={"csrf_token": token})  # no "replace" ticked: kept
    assert _org(session, org_people).signing_cert_pem == first
    admin.post("/admin/settings/signing-key", data={"csrf_token": token, "replace": "y"})
    assert _org(session, org_people).signing_cert_pem != first
    events = _events(session, "organisation.signing_key")
    assert [e.details["replaced"] for e in events] == [False, True]


def test_signing_key_imported_when_key_and_certificate_match(client_for, org_people, session):
    admin = client_for(org_people["admin"].email)
    key, cert = create_key_pair("Buurtwerk Noord")
    other_key, _other_cert = create_key_pair("Iemand anders")

    def upload(key_pem, cert_pem):
        token = csrf_token(admin.get("/admin/settings").text)
        return admin.post("/admin/settings/signing-key/import?lang=nl", data={
            "csrf_token": token, "key_file": (io.BytesIO(key_pem), "key.pem"),
            "cert_file": (io.BytesIO(cert_pem), "cert.pem")}, content_type="multipart/form-data",
            follow_redirects=True)

    assert "horen niet bij elkaar" in upload(other_key, cert).text
    assert "niet te lezen" in upload(b"nonsense", cert).text
    assert _org(session, org_people).signing_key_pem is None
    assert fingerprint(cert) in upload(key, cert).text
    org = _org(session, org_people)
    assert (org.signing_key_pem, org.signing_cert_pem) == (key, cert)
    [event] = _events(session, "organisation.signing_key")
    assert event.details["how"] == "imported"


def test_only_admins_reach_the_settings(client_for, org_people, session):
    for role in ("worker", "funder"):
        other = client_for(org_people[role].email)
        assert other.get("/admin/settings").status_code == 403
        token = csrf_token(other.get("/").text)
        assert other.post("/admin/settings", data={"csrf_token": token, **GOOD}).status_code == 403
        assert other.post("/admin/settings/signing-key", data={"csrf_token": token}).status_code == 403
    assert _org(session, org_people).name == "Buurtwerk Noord"


def test_settings_need_csrf(client_for, org_people, session):
    admin = client_for(org_people["admin"].email)
    assert admin.post("/admin/settings", data=GOOD).status_code == 400
    assert _org(session, org_people).name == "Buurtwerk Noord"


def test_logo_page_is_part_of_the_settings(client_for, org_people):
    admin = client_for(org_people["admin"].email)
    page = admin.get("/admin/logo?lang=nl")
    assert page.status_code == 200
    assert "Instellingen van de organisatie" in page.text and 'action="/admin/logo"' in page.text
    assert 'href="/admin/settings"' in page.text  # the menu's way in


def test_the_logo_rules_show_the_forbidden_tag_as_text(client_for, org_people):
    page = client_for(org_people["admin"].email).get("/admin/settings?lang=nl").text
    assert "zonder &lt;use&gt;, scripts" in page and "<use>" not in page

"""Hostile content: names, answers, quotes and organisation texts full of HTML, CSS and URLs.

Everything comes out as plain text, the URL fetcher is never asked for
``file:`` or network URLs, organisation texts cannot run template code, a
misbehaving plugin section is left out, and every document finishes within
its render budget (a render over it raises, so these tests need no clock).
"""

from __future__ import annotations


import pytest
from sqlalchemy import select

from surveyhub import hookimpl
from surveyhub.plugins import get_registry
from surveyhub.models import Project
from surveyhub.services import access
from surveyhub.services import documents as docs
from tests.fixtures.documents import (BASE_URL, HOSTILE, consent, fetch_log,  # noqa: F401 (fixture)
                                      pdf_text)
from tests.fixtures.outcomes import answer, at_levels

#: Generous: a hostile document must not take longer than this (a normal one takes well under a second).


class HostilePlugin:
    @hookimpl
    def surveyhub_certificate_sections(self, context):
        return [{"title": HOSTILE[0], "body": HOSTILE[1]}, {"title": 42, "body": None}, "not a section"]

    @hookimpl
    def surveyhub_report_sections(self, context):
        raise RuntimeError("report plugin bug")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "EXTRA_PLUGINS": {"hostile": HostilePlugin()}}


@pytest.fixture
def hostile_project(app, session, make_org, make_project):
    """An organisation, a project and residents whose every text is an attack."""
    org = make_org("Buurtwerk <b>Noord</b>")
    org.brand_colour = "red;}*{"  # the column holds 7 characters; this would end the CSS rule
    org.closing_text = " ".join(HOSTILE) + " {{ naam }}" + "x" * 20_000
    org.logo = (b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd" width="10" height="10"/>'
                b"<style>@import url(http://169.254.169.254/);</style></svg>")
    org.logo_type = "image/svg+xml"
    session.commit()
    info = make_project(org, "Buurttuin", instruments=("organising",))
    project = session.scalar(select(Project).where(Project.slug == info.slug))
    project.name = HOSTILE[2][:200]
    project.description = HOSTILE[1]
    session.commit()
    actor = access.Actor(organisation_id=org.id, role="admin")
    from surveyhub.services import participants
    invitations = participants.add_participants(session, actor, info.slug,
                                                entries=[(h[:200], None) for h in HOSTILE])
    session.commit()
    for index, invitation in enumerate(invitations):
        consent(session, invitation.code, info.slug, share_quotes=True)
        answer(app, session, info.slug, "pre", invitation.code, at_levels(session, info.slug, {"organising": 2}))
        answer(app, session, info.slug, "post", invitation.code,
               at_levels(session, info.slug, {"organising": 4}, text=HOSTILE[index]))
    return {"slug": info.slug, "actor": actor, "codes": [i.code for i in invitations], "org_id": org.id}


def test_hostile_names_and_organisation_texts_on_a_certificate(app, session, hostile_project, fetch_log):
    from surveyhub.plugins import get_host

    h = hostile_project
    issued = [docs.issue_resident_document(session, h["actor"], h["slug"], code, base_url=BASE_URL,
                                           host=get_host(app))
              for code in h["codes"]]
    session.commit()
    texts = [pdf_text(doc.pdf) for doc in issued]

    assert fetch_log.forbidden() == []
    assert all(url.startswith(("data:", "surveyhub-font:")) for url in fetch_log.urls)
    # The names came out as the text they are.
    assert '<img src=file:///etc/passwd alt="x">' in texts[0]
    assert '"><script>alert(1)</script>' in texts[3]
    assert "{{ ''.__class__.__mro__[1].__subclasses__() }}" in texts[4]
    # The organisation's name and closing text are plain text too; placeholders are not template code.
    assert "Buurtwerk <b>Noord</b>" in texts[0]
    assert "{% for a in range(99999) %}" in texts[0]
    # A plugin section with markup is shown as text; malformed sections are left out.
    assert HOSTILE[0] in texts[0] and "background:url(http://169.254.169.254" in texts[0].replace(" ", "")
    assert "not a section" not in texts[0]


def test_absurd_brand_colour_falls_back_to_the_default(session, hostile_project, tmp_path):
    from tests.fixtures.documents import page_png

    h = hostile_project
    pdf = docs.issue_resident_document(session, h["actor"], h["slug"], h["codes"][0], base_url=BASE_URL).pdf
    image = page_png(pdf, tmp_path)
    default = (0x1F, 0x5F, 0x8B)
    assert sum(1 for px in image.get_flattened_data() if all(abs(a - b) < 24 for a, b in zip(px, default))) > 200


def test_hostile_report_quotes_and_a_failing_report_plugin(app, session, hostile_project, fetch_log):
    from surveyhub.plugins import get_host

    h = hostile_project
    issued = (docs.issue_report(session, get_registry(app), h["actor"], h["slug"], base_url=BASE_URL,
                                              host=get_host(app)))
    text = pdf_text(issued.pdf)

    assert fetch_log.forbidden() == []
    assert "url(http://169.254.169.254/)" in text  # a quote, as text
    assert "<style>body{background:url(" in text.replace(" ", "")
    assert "Wat bewoners zeggen" in text
    assert get_host(app).statuses["hostile"].status == "error"  # the raising report plugin, left out


def test_hostile_link_sheet_and_paper_questionnaire(session, hostile_project, fetch_log):
    h = hostile_project
    sheet = (docs.link_sheet_pdf(session, h["actor"], h["slug"], base_url=BASE_URL))
    paper = (docs.questionnaire_pdf(session, h["actor"], h["slug"], "post"))
    assert '"><script>alert(1)</script>' in pdf_text(sheet.pdf)
    assert "Buurttuin" not in pdf_text(paper.pdf)  # the project's name is the hostile one now
    assert "url(http://169.254.169.254/)" in pdf_text(paper.pdf)
    assert fetch_log.forbidden() == []


def test_a_huge_unbroken_name_still_prints(app, session, make_org, make_project, make_participant):
    org = make_org()
    project = make_project(org, "Buurttuin", instruments=("organising",))
    resident = make_participant(org, project.slug, "W" * 200)
    answer(app, session, project.slug, "pre", resident.code, at_levels(session, project.slug, {"organising": 1}))
    actor = access.Actor(organisation_id=org.id, role="worker")
    issued = (docs.issue_resident_document(session, actor, project.slug, resident.code,
                                                         base_url=BASE_URL))
    assert "W" * 50 in pdf_text(issued.pdf).replace(" ", "")

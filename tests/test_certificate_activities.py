"""The certificate names what the resident did: "Fatima deed mee aan 8 activiteiten (24 uur) en organiseerde er 3."

From confirmed records only (``services.participation``, the one reading): a contribution a
worker has not confirmed yet is not on it, and a resident who did nothing recorded, or never
chaired, is not told so. Read back from the PDF, which stays one page.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from surveyhub.models import Participant, Project
from surveyhub.rendering import certificate, texts
from surveyhub.services import access, contributions, projects
from surveyhub.services import documents as docs
from tests.fixtures.documents import BASE_URL, page_png, pdf_reader, pdf_text
from tests.test_contributions import add_activity
from tests.test_questionnaire import Resident, finish_wave


def lines(lang: str, **did) -> list[str]:
    return certificate.activity_lines(did, "Fatima", texts.CERTIFICATE[lang], lang)


def test_the_sentence_celebrates_in_dutch_and_english():
    assert lines("nl", count=8, hours=24, organised=3, chaired=0) == [
        "Fatima deed mee aan 8 activiteiten (24 uur) en organiseerde er 3."]
    assert lines("en", count=8, hours=24, organised=3, chaired=0) == [
        "Fatima took part in 8 activities (24 hours) and organised 3 of them."]
    assert lines("nl", count=1, hours=2.5, organised=0, chaired=0) == ["Fatima deed mee aan één activiteit (2,5 uur)."]
    assert lines("en", count=1, hours=1, organised=1, chaired=0) == ["Fatima organised one activity (1 hour)."]
    assert lines("nl", count=3, hours=6, organised=0, chaired=2) == [
        "Fatima deed mee aan 3 activiteiten (6 uur).", "Fatima was 2 keer voorzitter of woordvoerder."]
    assert lines("en", count=2, hours=3, organised=0, chaired=1)[1] == \
        "Fatima chaired a meeting or spoke for the group once."


def test_nothing_recorded_and_zeros_stay_silent():
    assert lines("nl", count=0, hours=0, organised=0, chaired=0) == []
    assert certificate.activity_lines({}, "Fatima", texts.CERTIFICATE["nl"], "nl") == []
    # Hours nobody wrote down: no "(0 uur)".
    assert lines("nl", count=2, hours=0, organised=0, chaired=0) == ["Fatima deed mee aan 2 activiteiten."]
    for lang in texts.CERTIFICATE:
        said = " ".join(lines(lang, count=4, hours=8, organised=0, chaired=0))
        assert "0" not in said.replace("8", "").replace("4", "") and said


@pytest.fixture
def resident(app, session, make_org, make_project, make_participant):
    """Fatima answered both waves; a worker recorded eight activities, three of which she organised."""
    org = make_org()
    slug = make_project(org).slug
    fatima = make_participant(org, slug, "Fatima Zahra")
    actor = access.Actor(organisation_id=org.id, role="admin")
    Resident(app.test_client(), fatima.token).consent()
    finish_wave(Resident(app.test_client(), fatima.token), "2")
    projects.set_wave_status(session, actor, slug, "post", "open")
    session.commit()
    finish_wave(Resident(app.test_client(), fatima.token), "4")
    project_id = session.scalar(select(Project.id).where(Project.slug == slug))
    participant_id = session.scalar(select(Participant.id).where(Participant.code == fatima.code))
    today = date.today()
    for n in range(8):
        add_activity(session, project_id, today - timedelta(days=7 * n + 1), "workday", f"Klusdag {n + 1}", 3,
                     {participant_id: "organiser" if n < 3 else "participant"})
    session.commit()
    return {"slug": slug, "code": fatima.code, "actor": actor, "project_id": project_id, "id": participant_id}


def test_the_certificate_says_what_she_did_and_stays_one_page(app, session, resident, tmp_path):
    # A contribution of her own that no worker confirmed yet does not count.
    contributions.propose(session, resident["id"], resident["project_id"], happened_on=date.today(), kind="other",
                          description="Soep gemaakt", hours=5, role="organiser")
    # Beside the worker's own words for her role, and two meetings she chaired.
    session.get(Participant, resident["id"]).role = "organiseerde de opening van de speeltuin met de hele straat"
    for n in range(2):
        add_activity(session, resident["project_id"], date.today() - timedelta(days=n + 2), "meeting",
                     "Bewonersavond", 2, {resident["id"]: "chair"})
    session.commit()
    issued = docs.issue_certificate(session, resident["actor"], resident["slug"], resident["code"],
                                    base_url=BASE_URL, lang="nl")
    session.commit()
    text = pdf_text(issued.pdf)
    assert "Wat Fatima deed" in text
    assert "Organiseerde de opening van de speeltuin met de hele straat" in text
    assert "Fatima deed mee aan 10 activiteiten (28 uur) en organiseerde er 3." in text
    assert "Fatima was 2 keer voorzitter of woordvoerder." in text
    assert "Soep" not in text and "33 uur" not in text
    assert len(pdf_reader(issued.pdf).pages) == 1
    image = page_png(issued.pdf, tmp_path, dpi=60)  # saved for a look by hand (pytest --basetemp)
    image.save(tmp_path / "certificate.png")
    assert image.width > image.height  # landscape, as before


def test_a_certificate_without_activities_says_nothing_about_them(app, session, resident, make_org):
    from sqlalchemy import delete

    from surveyhub.models import Activity
    session.execute(delete(Activity).where(Activity.project_id == resident["project_id"]))
    session.commit()
    issued = docs.issue_certificate(session, resident["actor"], resident["slug"], resident["code"],
                                    base_url=BASE_URL, lang="en")
    session.commit()
    text = pdf_text(issued.pdf)
    assert "What Fatima did" not in text and "Fatima took part in" not in text and "activities" not in text

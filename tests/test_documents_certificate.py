"""Certificates and certificates of participation, from real answers.

Read back with pypdf: name, project, organisation, what the resident can do
now and the verification code are on the page; a decline, a level word or
"nog steeds" never is; asking again gives the same document unless something
changed. The printable book and the reference image are in
``test_certificate_book.py``.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from surveyhub import hookimpl
from surveyhub.rendering import formatting
from surveyhub.models import Document, Organisation
from surveyhub.services import access, participants
from surveyhub.services import documents as docs
from surveyhub.services.errors import ServiceError
from tests.fixtures.documents import (BASE_URL, alt_texts, demo, fetch_log, page_png,  # noqa: F401
                                      pdf_reader, pdf_text)
from tests.fixtures.outcomes import answer, at_levels


def _issue(session, d, code, **kwargs):
    issued = docs.issue_resident_document(session, d.actor, d.slug, code, base_url=BASE_URL, **kwargs)
    session.commit()
    return issued


def _first(session, d, kind):
    return next(c for c in docs.certificate_candidates(session, d.actor, d.slug) if c.kind == kind)


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Document))


def test_certificate_shows_the_resident_the_project_and_a_verification_code(session, demo, tmp_path):
    resident = _first(session, demo, "certificate")
    issued = _issue(session, demo, resident.code)

    text = pdf_text(issued.pdf)
    assert issued.kind == "certificate" and not issued.reused
    assert "Certificaat" in text and resident.display_name in text
    assert "Speeltuin De Vlinder" in text and "Buurtwerk Demo" in text
    assert f"Code: {issued.code}" in text
    assert f"{BASE_URL}/verify/{issued.code}" in text.replace(" ", "")
    assert f"Uitgereikt op {formatting.long_date(issued.issued_at)}" in text
    # Issued as nobody (the command line): signed by the worker who set the project up, by name.
    assert "Sanne de Vries Opbouwwerker" in text and "Handtekening opbouwwerker" not in text
    assert f"Wat {resident.display_name} nu kan" in text and f"{resident.display_name} kan nu " in text
    # No chart: only the QR code is an image, with words for screen readers.
    assert alt_texts(issued.pdf) == ["QR-code naar de controlepagina van dit document"]
    record = session.scalar(select(Document).where(Document.code == issued.code))
    assert record.sha256 == docs.codes.sha256(issued.pdf) and record.kind == "certificate"
    assert record.participant_id is not None and record.issued_at is not None

    # Page 1 printed: not blank, and the organisation's colour is on it.
    image = page_png(issued.pdf, tmp_path)
    grey = image.convert("L")
    assert statistics.pstdev(grey.get_flattened_data()) > 10
    brand = (0x1F, 0x5F, 0x8B)
    assert sum(1 for px in image.get_flattened_data() if all(abs(a - b) < 24 for a, b in zip(px, brand))) > 200


#: Words a certificate never says: level names, a decline, "still" (in both languages).
LEVEL_WORDS = ("op weg", "goed bezig", "sterk", "getting started", "doing well", "strong")
DECLINE_WORDS = ("achteruit", "gedaald", "minder", "lager", "nog steeds", "nog altijd", "declined", "went down",
                 "still", "lower")


def _words_of(text: str) -> str:
    return " " + " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split()) + " "


def assert_no_level_or_decline(text: str) -> None:
    words = _words_of(text)
    for word in LEVEL_WORDS + DECLINE_WORDS:
        assert f" {word} " not in words, word


def _buurttuin(make_org, make_project, make_participant, name, instruments=("organising", "cooperation")):
    org = make_org("Buurtwerk Noord")
    project = make_project(org, "Buurttuin", instruments=instruments)
    return org, project, make_participant(org, project.slug, name)


def test_what_a_resident_can_do_now_comes_from_the_items_they_grew_in(app, session, make_org, make_project,
                                                                       make_participant):
    org, project, resident = _buurttuin(make_org, make_project, make_participant, "Joost")
    for wave, levels in (("pre", {"organising": 2, "cooperation": 5}), ("post", {"organising": 4, "cooperation": 3})):
        answer(app, session, project.slug, wave, resident.code, at_levels(session, project.slug, levels))
    actor = access.Actor(organisation_id=org.id, role="worker")

    text = pdf_text(docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL).pdf)

    assert "Certificaat" in text and "Joost" in text and "Wat Joost nu kan" in text
    # organising: every item from 2 to 4; its first two can-do phrases, in the instrument's order
    assert "Joost kan nu een buurtactiviteit van begin tot eind plannen." in text
    assert "Ook kan Joost nu een ruimte regelen voor een bijeenkomst." in text
    assert "Gegroeid in: Plannen en organiseren" in text
    assert "Je groeide het meest in Plannen en organiseren." in text
    # cooperation went from 5 to 3: not named at all, not as a strength either
    assert "Samenwerken" not in text and "samenwerken" not in text
    assert_no_level_or_decline(text)


def test_a_resident_who_declined_gets_a_participation_certificate_that_honours_what_they_did(
        app, session, make_org, make_project, make_participant):
    from surveyhub.models import Participant, Project, ProjectOutput

    org, project, resident = _buurttuin(make_org, make_project, make_participant, "Wim", instruments=("organising",))
    answer(app, session, project.slug, "pre", resident.code, at_levels(session, project.slug, {"organising": 4}))
    answer(app, session, project.slug, "post", resident.code, at_levels(session, project.slug, {"organising": 2}))
    row = session.scalar(select(Participant).where(Participant.code == resident.code))
    row.role = "hielp elke zaterdag in de moestuin"
    found = session.scalar(select(Project).where(Project.slug == project.slug))
    session.add(ProjectOutput(project_id=found.id, happened_on=date(2026, 5, 12), description="Moestuin geopend"))
    session.commit()
    actor = access.Actor(organisation_id=org.id, role="worker")

    text = pdf_text(docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL).pdf)

    assert "Certificaat van deelname" in text and "Wim" in text
    assert "Wat Wim deed" in text and "Hielp elke zaterdag in de moestuin" in text
    assert "Samen bereikt" in text and "Moestuin geopend (12 mei 2026)" in text
    assert "Fijn dat je meedeed" in text
    assert "kan nu" not in text and "Plannen en organiseren" not in text
    assert_no_level_or_decline(text)


@pytest.mark.parametrize("pre,post", [(1, 1), (2, 1), (1, 2)], ids=["stayed-lowest", "went-to-lowest",
                                                                     "grew-within-lowest"])
def test_a_resident_at_the_bottom_of_the_scale_gets_no_level_word(app, session, make_org, make_project,
                                                                  make_participant, pre, post):
    org, project, resident = _buurttuin(make_org, make_project, make_participant, "Ans")
    for wave, level in (("pre", pre), ("post", post)):
        answer(app, session, project.slug, wave, resident.code,
               at_levels(session, project.slug, {"organising": level, "cooperation": level}))
    actor = access.Actor(organisation_id=org.id, role="worker")

    text = pdf_text(docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL).pdf)

    assert "Ans" in text
    assert_no_level_or_decline(text)
    if post > pre:  # grew from 1 to 2: no item reaches "agree", so no can-do sentence; the growth is named
        assert "Certificaat" in text and "Ans groeide in Plannen en organiseren en Samenwerken." in text
    else:
        assert "Certificaat van deelname" in text and "Fijn dat je meedeed" in text and "kan nu" not in text


def test_nog_steeds_is_nowhere_in_the_certificate_words():
    from surveyhub.rendering import texts

    for lang in ("nl", "en"):
        words = _words_of(" ".join(str(v) for v in texts.CERTIFICATE[lang].values()))
        for word in ("nog steeds", "still", "blijf je sterk", "blijft sterk"):
            assert f" {word} " not in words, (lang, word)


def test_the_workers_real_name_and_job_title_sign_never_the_account(app, session, make_org, make_project,
                                                                     make_participant):
    from surveyhub.models import Organisation, User

    org, project, resident = _buurttuin(make_org, make_project, make_participant, "Fatima el Amrani")
    answer(app, session, project.slug, "pre", resident.code, at_levels(session, project.slug, {"organising": 2}))
    answer(app, session, project.slug, "post", resident.code, at_levels(session, project.slug, {"organising": 4}))
    user = User(organisation_id=org.id, email="s.devries@buurtwerk.example", name="Sanne de Vries",
                job_title="Buurtwerker jongeren", password_hash="x", role="worker")
    session.add(user)
    session.get(Organisation, org.id).contact = "030 123 45 67 · info@buurtwerknoord.example"
    session.commit()
    actor = access.Actor(organisation_id=org.id, role="worker", user_id=user.id)

    text = pdf_text(docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL).pdf)

    assert "Sanne de Vries" in text and "Buurtwerker jongeren" in text
    assert "s.devries@buurtwerk.example" not in text and "Demo worker" not in text
    assert "Handtekening opbouwwerker" not in text  # the name stands under the line instead
    assert "Contact: 030 123 45 67 · info@buurtwerknoord.example" in text
    assert "Fatima el Amrani" in text and "Fatima kan nu" in text  # the full name large, the first name in words


def test_without_a_named_worker_the_signature_line_says_whose_it_is(app, session, make_org, make_project,
                                                                     make_participant):
    org, project, resident = _buurttuin(make_org, make_project, make_participant, "Kofi")
    answer(app, session, project.slug, "pre", resident.code, at_levels(session, project.slug, {"organising": 2}))
    answer(app, session, project.slug, "post", resident.code, at_levels(session, project.slug, {"organising": 4}))
    actor = access.Actor(organisation_id=org.id, role="worker")  # nobody by name, and nobody set the project up
    text = pdf_text(docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL).pdf)
    assert "Handtekening opbouwwerker" in text


def test_the_verification_url_stays_on_one_line(app, session, make_org, make_project, make_participant):
    long_site = "https://enquete.samenlevingsopbouw-amsterdam-noord.nl"
    org, project, resident = _buurttuin(make_org, make_project, make_participant, "Kofi")
    answer(app, session, project.slug, "pre", resident.code, at_levels(session, project.slug, {"organising": 3}))
    answer(app, session, project.slug, "post", resident.code, at_levels(session, project.slug, {"organising": 4}))
    actor = access.Actor(organisation_id=org.id, role="worker")

    for orientation in ("landscape", "portrait"):
        session.get(Organisation, org.id).certificate_orientation = orientation
        session.commit()
        issued = docs.issue_certificate(session, actor, project.slug, resident.code, base_url=long_site)
        session.commit()
        page = pdf_reader(issued.pdf).pages[0]
        lines = page.extract_text().splitlines()
        url = f"{long_site}/verify/{issued.code}"
        assert any(line.strip() == url for line in lines), (orientation, [ln for ln in lines if "verify" in ln])
        assert len(pdf_reader(issued.pdf).pages) == 1
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (width > height) == (orientation == "landscape")


def test_the_certificate_is_in_the_language_the_resident_answered_in(app, session, make_org, make_project,
                                                                     make_participant):
    from surveyhub.models import Response

    org, project, resident = _buurttuin(make_org, make_project, make_participant, "Priya")
    answer(app, session, project.slug, "pre", resident.code, at_levels(session, project.slug, {"organising": 2}))
    answer(app, session, project.slug, "post", resident.code, at_levels(session, project.slug, {"organising": 4}))
    for response in session.scalars(select(Response)):
        response.language = "en"
    session.commit()
    actor = access.Actor(organisation_id=org.id, role="worker")

    issued = docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL)
    text = pdf_text(issued.pdf)
    assert issued.language == "en" and pdf_reader(issued.pdf).trailer["/Root"]["/Lang"] == "en"
    assert "Certificate" in text and "Priya can now plan a neighbourhood activity from start to finish." in text
    # asked for in Dutch, it is Dutch
    dutch = docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL, lang="nl")
    assert "Priya kan nu een buurtactiviteit van begin tot eind plannen." in pdf_text(dutch.pdf)


def test_only_the_pre_wave_gives_a_proof_of_participation(session, demo):
    resident = _first(session, demo, "participation")
    issued = _issue(session, demo, resident.code)

    text = pdf_text(issued.pdf)
    assert issued.kind == "participation" and issued.filename.startswith("deelname-")
    assert "Certificaat van deelname" in text and resident.display_name in text
    assert "Plannen en organiseren" in text and "Na de eindmeting" in text
    assert_no_level_or_decline(text)
    with pytest.raises(ServiceError):
        docs.issue_certificate(session, demo.actor, demo.slug, resident.code, base_url=BASE_URL)


def test_a_name_typed_for_the_certificate_and_english(session, demo):
    resident = _first(session, demo, "certificate")
    issued = _issue(session, demo, resident.code, name="Fatima B.", lang="en", personal_line="Thanks for the playground!")
    text = pdf_text(issued.pdf)
    assert "Certificate" in text and "Fatima B." in text and "Thanks for the playground!" in text
    assert "Issued on" in text and "Code:" in text
    assert pdf_reader(issued.pdf).trailer["/Root"]["/Lang"] == "en"


def test_asking_again_gives_the_same_document_until_something_changes(app, session, demo):
    resident = _first(session, demo, "certificate")
    first = _issue(session, demo, resident.code)
    again = _issue(session, demo, resident.code)
    assert again.reused and (again.code, again.sha256, again.pdf) == (first.code, first.sha256, first.pdf)
    before = _count(session)

    # The worker fixes the resident's name: a new certificate with a new code.
    participant = participants.get_participant(session, demo.actor, demo.slug, resident.code)
    participant.display_name = "Fatima el Amrani"
    session.commit()
    renamed = _issue(session, demo, resident.code)
    assert not renamed.reused and renamed.code != first.code and _count(session) == before + 1
    assert docs.verify_code(session, first.code).document.superseded

    # A revoked certificate is never handed out again.
    docs.revoke(session, access.Actor(demo.org_id, "admin"), renamed.code, "typo")
    session.commit()
    fresh = _issue(session, demo, resident.code)
    assert fresh.code not in (first.code, renamed.code) and not fresh.reused


def _png_logo() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (60, 30), (0xC0, 0x39, 0x2B)).save(out, format="PNG")
    return out.getvalue()


def test_organisation_branding_logo_and_closing_text(session, demo, fetch_log):
    org = session.get(Organisation, demo.org_id)
    org.brand_colour = "#c0392b"
    org.logo, org.logo_type = _png_logo(), "image/png"
    org.closing_text = "Gefeliciteerd, {{ naam }}! Groeten van {{ organisatie }}."
    session.commit()
    resident = _first(session, demo, "certificate")

    issued = _issue(session, demo, resident.code)

    text = pdf_text(issued.pdf)
    assert f"Gefeliciteerd, {resident.display_name}! Groeten van Buurtwerk Demo." in text
    page = pdf_reader(issued.pdf).pages[0]
    assert len(page.images) >= 2  # the logo and the QR code
    assert all(url.startswith(("data:", "surveyhub-font:")) for url in fetch_log.urls)


class SectionPlugin:
    @hookimpl
    def surveyhub_certificate_sections(self, context):
        return [{"title": "Vrijwilligersuren", "body": f"{context['participant']['display_name']}: 40 uur"}]


class BrokenPlugin:
    @hookimpl
    def surveyhub_certificate_sections(self, context):
        raise RuntimeError("plugin bug")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "EXTRA_PLUGINS": {"sections": SectionPlugin(), "broken": BrokenPlugin()}}


def test_plugin_sections_are_shown_and_a_failing_plugin_is_left_out(app, session, demo, caplog):
    from surveyhub.plugins import get_host

    resident = _first(session, demo, "certificate")
    with app.app_context():
        issued = _issue(session, demo, resident.code, host=get_host(app))
    text = pdf_text(issued.pdf)
    assert "Vrijwilligersuren" in text and f"{resident.display_name}: 40 uur" in text
    status = get_host(app).statuses["broken"]
    assert status.status == "error" and "plugin bug" in status.last_error
    assert any("plugin bug" in r.getMessage() for r in caplog.records)


def _signature_is_valid(pdf: bytes, cert_pem: bytes) -> bool:
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from asn1crypto import pem, x509

    _, _, der = pem.unarmor(cert_pem)
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[x509.Certificate.load(der)]))
    return status.intact and status.valid and status.coverage.name == "ENTIRE_FILE"


def test_a_signed_certificate_is_signed_and_still_not_issued_twice(session, demo):
    from surveyhub.rendering.signing import create_key_pair

    org = session.get(Organisation, demo.org_id)
    org.signing_key_pem, org.signing_cert_pem = create_key_pair(org.name)
    session.commit()
    resident = _first(session, demo, "certificate")

    first = _issue(session, demo, resident.code)
    time.sleep(1.1)  # the clock moves on; the signature must not
    again = _issue(session, demo, resident.code)

    assert b"/ETSI.CAdES.detached" in first.pdf and b"/ByteRange" in first.pdf
    assert _signature_is_valid(first.pdf, org.signing_cert_pem)
    assert again.reused and again.pdf == first.pdf
    assert docs.verify_file(session, first.pdf).status == "genuine"
    fields = pdf_reader(first.pdf).get_fields()
    assert fields["SurveyHub"]["/FT"] == "/Sig"


def test_a_project_pinned_before_can_do_wording_gets_it_from_the_same_installed_version(
        app, session, make_org, make_project, make_participant):
    import copy

    from surveyhub.models import InstrumentVersion
    from surveyhub.plugins import get_registry

    org, project, resident = _buurttuin(make_org, make_project, make_participant, "Kees", instruments=("organising",))
    answer(app, session, project.slug, "pre", resident.code, at_levels(session, project.slug, {"organising": 2}))
    answer(app, session, project.slug, "post", resident.code, at_levels(session, project.slug, {"organising": 4}))
    stored = session.scalar(select(InstrumentVersion).where(InstrumentVersion.instrument_id == "organising"))
    old = copy.deepcopy(stored.definition)  # as stored before the instrument had can-do wording
    for scale in old["scales"]:
        scale.pop("can_do", None)
        for item in scale["items"]:
            item.pop("can_do", None)
    stored.definition = old
    session.commit()
    actor = access.Actor(organisation_id=org.id, role="worker")

    def text(**kwargs) -> str:
        issued = docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL, **kwargs)
        session.commit()
        return pdf_text(issued.pdf)

    assert "Kees groeide in Plannen en organiseren." in text()  # the snapshot alone has no wording
    assert "Kees kan nu een buurtactiviteit van begin tot eind plannen." in text(registry=get_registry(app))
    stored.digest = "0" * 64  # an installed file that differs in more than wording is not used
    session.commit()
    assert "Kees groeide in Plannen en organiseren." in text(registry=get_registry(app))


def test_a_plugin_is_handed_no_level_word_for_a_resident_at_the_bottom(app, session, make_org, make_project,
                                                                       make_participant):
    from surveyhub.models import Participant, Project
    from surveyhub.services import document_context as dc

    org, project, resident = _buurttuin(make_org, make_project, make_participant, "Ans")
    answer(app, session, project.slug, "pre", resident.code,
           at_levels(session, project.slug, {"organising": 1, "cooperation": 2}))
    answer(app, session, project.slug, "post", resident.code,
           at_levels(session, project.slug, {"organising": 1, "cooperation": 4}))
    found = session.scalar(select(Project).where(Project.slug == project.slug))
    row = session.scalar(select(Participant).where(Participant.code == resident.code))

    context = dc.certificate_hook_context(dc.certificate_data(session, found, row, kind="certificate", lang="nl"))

    levels = {scale["title"]: (scale["level_start"], scale["level_now"], scale["grew"]) for scale in context["scales"]}
    assert levels["Plannen en organiseren"] == (None, None, False)  # at the bottom: no level word at all
    assert levels["Samenwerken"] == ("Op weg", "Sterk", True)  # grew out of the bottom: both levels

"""Certificates and proofs of participation, from the demo project's real answers.

Read back with pypdf: name, project, organisation, levels and the
verification code are on the page; a skill that did not grow is never shown
with a level; asking again gives the same document unless something changed.
"""

from __future__ import annotations

import statistics
import time

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
    assert "Handtekening opbouwwerker" in text
    alts = alt_texts(issued.pdf)  # the growth chart (SVG) and the QR code, each with words for screen readers
    assert any(alt.startswith("Grafiek: waar je stond bij de start") for alt in alts)
    assert "QR-code naar de controlepagina van dit document" in alts
    record = session.scalar(select(Document).where(Document.code == issued.code))
    assert record.sha256 == docs.codes.sha256(issued.pdf) and record.kind == "certificate"
    assert record.participant_id is not None and record.issued_at is not None

    # Page 1 printed: not blank, and the organisation's colour is on it.
    image = page_png(issued.pdf, tmp_path)
    grey = image.convert("L")
    assert statistics.pstdev(grey.get_flattened_data()) > 10
    brand = (0x1F, 0x5F, 0x8B)
    assert sum(1 for px in image.get_flattened_data() if all(abs(a - b) < 24 for a, b in zip(px, brand))) > 200


def test_each_skill_shows_its_level_at_the_start_and_now(app, session, make_org, make_project, make_participant):
    org = make_org("Buurtwerk Noord")
    project = make_project(org, "Buurttuin", instruments=("organising", "cooperation"))
    resident = make_participant(org, project.slug, "Joost")
    for wave, levels in (("pre", {"organising": 2, "cooperation": 5}), ("post", {"organising": 4, "cooperation": 3})):
        answer(app, session, project.slug, wave, resident.code, at_levels(session, project.slug, levels))
    actor = access.Actor(organisation_id=org.id, role="worker")

    text = pdf_text(docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL).pdf)

    assert "Joost" in text and "Plannen en organiseren" in text
    assert "Op weg" in text and "Sterk" in text  # organising: from 2 (Op weg) to 4 (Sterk)
    # cooperation went down: named as a strength, without a level at the start or now
    assert "Je blijft sterk in Samenwerken." in text
    assert text.count("Samenwerken") == 1
    assert "Je groeide het meest in Plannen en organiseren." in text


def test_nobody_grew_still_gets_a_celebrating_certificate(app, session, make_org, make_project, make_participant):
    org = make_org()
    project = make_project(org, "Buurttuin", instruments=("organising",))
    resident = make_participant(org, project.slug, "Wim")
    answer(app, session, project.slug, "pre", resident.code, at_levels(session, project.slug, {"organising": 4}))
    answer(app, session, project.slug, "post", resident.code, at_levels(session, project.slug, {"organising": 2}))
    actor = access.Actor(organisation_id=org.id, role="worker")

    text = pdf_text(docs.issue_certificate(session, actor, project.slug, resident.code, base_url=BASE_URL).pdf)

    assert "Je blijft sterk in Plannen en organiseren." in text
    assert "Fijn dat je meedeed" in text
    assert "Hier ben je in gegroeid" not in text and "Op weg" not in text and "Sterk" not in text.replace("sterk", "")


def test_only_the_pre_wave_gives_a_proof_of_participation(session, demo):
    resident = _first(session, demo, "participation")
    issued = _issue(session, demo, resident.code)

    text = pdf_text(issued.pdf)
    assert issued.kind == "participation" and issued.filename.startswith("deelname-")
    assert "Bewijs van deelname" in text and resident.display_name in text
    assert "Plannen en organiseren" in text and "Na de eindmeting" in text
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

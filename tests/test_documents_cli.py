"""``surveyhub certificates PROJECT -o DIR`` (in parallel processes) and ``surveyhub signing-key create``."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from surveyhub.models import AuditEvent, Document, Organisation
from surveyhub.services import documents as docs
from tests.fixtures.documents import demo, pdf_text  # noqa: F401 (fixture)


def _documents(session) -> int:
    count = session.scalar(select(func.count()).select_from(Document))
    session.rollback()
    return count


def _digests(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.pdf"))}


def test_certificates_in_two_processes_twice_without_duplicates(runner, session, demo, tmp_path):
    from weasyprint import CSS

    from surveyhub.rendering.render import FONT_FACES, RefusingFetcher, get_renderer

    out = tmp_path / "certificaten"
    get_renderer().stylesheet("certificate.css")  # this process renders too (no reference kept: see below)

    first = runner.invoke(args=["certificates", demo.slug, "-o", str(out), "--jobs", "2"])

    assert first.exit_code == 0, first.output
    assert "31 certificates" in first.output and "(31 new, 0 unchanged)" in first.output  # 2 anonymous, one resident
    files = _digests(out)
    assert len(files) == 31 and sum(name.startswith("deelname-") for name in files) == 4
    assert _documents(session) == 31
    some = next(p for p in out.glob("certificaat-*.pdf"))
    assert "Certificaat" in pdf_text(some.read_bytes())
    assert docs.verify_file(session, some.read_bytes()).status == "genuine"
    session.rollback()

    again = runner.invoke(args=["certificates", demo.slug, "-o", str(out), "--jobs", "2"])

    assert again.exit_code == 0, again.output
    assert "(0 new, 31 unchanged)" in again.output
    assert _digests(out) == files  # byte for byte the same files
    assert _documents(session) == 31
    # The workers did not take this process's fonts with them (they were forked from it).
    CSS(string=FONT_FACES, font_config=get_renderer().font_config, url_fetcher=RefusingFetcher(fonts=True))


def test_a_changed_resident_gets_a_new_certificate_on_the_next_run(runner, session, demo, tmp_path):
    from surveyhub.services import participants

    out = tmp_path / "out"
    assert runner.invoke(args=["certificates", demo.slug, "-o", str(out), "-j", "1"]).exit_code == 0
    resident = docs.certificate_candidates(session, demo.actor, demo.slug)[0]
    participants.get_participant(session, demo.actor, demo.slug, resident.code).display_name = "Nieuwe Naam"
    session.commit()

    result = runner.invoke(args=["certificates", demo.slug, "-o", str(out), "-j", "1"])

    assert "(1 new, 30 unchanged)" in result.output
    assert "Nieuwe Naam" in pdf_text((out / f"certificaat-{resident.code}.pdf").read_bytes())
    assert _documents(session) == 32


def test_certificates_errors_are_one_line(runner, demo, tmp_path):
    result = runner.invoke(args=["certificates", "no-such-project", "-o", str(tmp_path)])
    assert result.exit_code != 0 and "no project" in result.output and "Traceback" not in result.output


def test_signing_key_create_signs_the_next_certificates(runner, session, demo, tmp_path):
    result = runner.invoke(args=["signing-key", "create", "--org", "Buurtwerk Demo"])
    assert result.exit_code == 0, result.output
    assert "fingerprint" in result.output and len(result.output.strip().splitlines()[-1].split(":")) == 32
    org = session.get(Organisation, demo.org_id)
    assert org.signing_key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert org.signing_cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.signing_key")) is not None
    session.rollback()

    refused = runner.invoke(args=["signing-key", "create", "--org", "Buurtwerk Demo"])
    assert refused.exit_code == 1 and "--replace" in refused.output

    out = tmp_path / "signed"
    assert runner.invoke(args=["certificates", demo.slug, "-o", str(out), "-j", "1"]).exit_code == 0
    pdf = next(out.glob("certificaat-*.pdf")).read_bytes()
    assert b"/ETSI.CAdES.detached" in pdf
    assert "(0 new, 31 unchanged)" in runner.invoke(args=["certificates", demo.slug, "-o", str(out), "-j", "1"]).output

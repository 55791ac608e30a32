"""``surveyhub certificates``, ``surveyhub verify`` and ``surveyhub signing-key``.

``certificates PROJECT -o DIR`` writes a certificate (or proof of
participation) per resident, in parallel processes; each process builds its
own app and database engine. Running it again registers no duplicates: an
unchanged certificate comes out byte for byte the same, with its own code.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from surveyhub.cli.common import base_url, session_scope, user_errors
from surveyhub.locale import RESIDENT_LANGUAGES
from surveyhub.services import access, accounts, audit, context
from surveyhub.services import document_context as dc
from surveyhub.services import documents as docs
from surveyhub.services.errors import UserError

#: ``surveyhub verify`` exit codes: only a genuine file exits 0.
EXIT_CODES = {"genuine": 0, "altered": 3, "revoked": 4, "withdrawn": 4, "unknown": 5}
MAX_JOBS = 8
#: ``surveyhub verify`` reads at most this much: no SurveyHub document comes near it.
MAX_VERIFY_BYTES = 100 * 2**20
#: Residents per task: fewer transactions, still a smooth progress bar.
CHUNK = 10


# --- certificates ------------------------------------------------------------------------------------

@click.command("certificates")
@click.argument("project")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the PDF files (created when missing).")
@click.option("--lang", type=click.Choice(list(RESIDENT_LANGUAGES)), default=None,
              help="Language of the certificates (default: the organisation's certificate language, else the "
                   "language each resident answered in).")
@click.option("--book", is_flag=True,
              help="Also write all certificates as one PDF to print, in name order (certificates-PROJECT.pdf).")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=None,
              help=f"Processes to render with (default: CPUs, at most {MAX_JOBS}).")
@with_appcontext
@user_errors
def certificates(project, out_dir, lang, book, jobs):
    """Write a certificate for every resident of PROJECT who finished a questionnaire.

    Residents who finished the post wave get a certificate, residents who only
    did the pre wave a certificate of participation. Safe to run again: unchanged
    certificates are not issued twice. With --book, one more PDF holds every
    certificate page for page, in name order, for printing.
    """
    with session_scope(commit=False) as session:
        actor = access.cli_actor(session, project_slug=project)
        candidates = docs.certificate_candidates(session, actor, project)
        lang = lang or dc.bulk_certificate_language(session, access.project(session, actor, project, "project.rows"))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {out_dir}: {exc.strerror}") from exc
    if not candidates:
        click.echo(f"{project}: no resident has finished a questionnaire yet; nothing written", err=True)
        return
    jobs = min(jobs or min(os.cpu_count() or 1, MAX_JOBS), len(candidates))
    results = _run(project, [c.code for c in candidates], lang, out_dir, jobs)
    with session_scope() as session:
        audit.download(session, access.cli_actor(session, project_slug=project), "download.certificates", project,
                       count=len(results), language=lang)
    new = sum(1 for r in results if not r["reused"])
    click.echo(f"{project}: {len(results)} certificates in {out_dir} ({new} new, {len(results) - new} unchanged)")
    if book:
        target = _write_book(project, lang, out_dir)
        click.echo(f"{project}: all certificates in one PDF to print: {target}")


def _write_book(project: str, lang: str | None, out_dir: Path) -> Path:
    """The book of the certificates just issued: each page is its certificate, with its code and date."""
    from surveyhub.plugins import get_host, get_registry
    from surveyhub.rendering import certificate

    with session_scope(commit=False) as session:
        actor = access.cli_actor(session, project_slug=project)
        candidates = docs.certificate_candidates(session, actor, project, by_name=True)
        found = access.project(session, actor, project, "project.rows")
        prepared = [docs.prepare_certificate(session, actor, project, c.code, base_url=base_url(), lang=lang,
                                             host=get_host(), project=found, registry=get_registry())
                    for c in candidates]
        title = f"{certificate.book_title(lang)} — {found.name}"
    pages = [one.page(*one.previous[:2]) for one in prepared if one.page and one.previous]
    target = out_dir / f"certificates-{project}.pdf"
    partial = target.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(certificate.render_book(pages, title=title, issued_at=max(p["issued_at"] for p in pages)))
    partial.replace(target)
    return target


def _run(project: str, codes: list[str], lang: str, out_dir: Path, jobs: int) -> list[dict]:
    chunks = [codes[i:i + CHUNK] for i in range(0, len(codes), CHUNK)]
    results = []
    with click.progressbar(length=len(codes), label="Certificates", file=sys.stderr) as bar:
        if jobs == 1:
            for chunk in chunks:
                results += _issue_chunk(project, chunk, lang, str(out_dir), base_url())
                bar.update(len(chunk))
            return results
        settings = _worker_settings()
        from surveyhub.db import get_db
        from surveyhub.rendering import certificate  # noqa: F401 - imported once, before the workers fork
        get_db().engine.dispose()  # no open database connection may be copied into a worker
        with ProcessPoolExecutor(max_workers=jobs, mp_context=_process_context(),
                                 initializer=_start_worker, initargs=(settings,)) as pool:
            futures = [pool.submit(_worker_issue, project, chunk, lang, str(out_dir)) for chunk in chunks]
            for future in as_completed(futures):
                done = future.result()
                results += done
                bar.update(len(done))
    return results


def _worker_settings() -> dict:
    """What a worker process needs to build the same app: plain settings only."""
    from surveyhub.config import DEFAULTS

    settings = {key: current_app.config.get(key) for key in DEFAULTS}
    settings.update(INSTANCE_PATH=current_app.instance_path, TESTING=current_app.config.get("TESTING", False))
    return settings


def _process_context():
    """``fork`` on Linux: a worker starts in milliseconds with SurveyHub and WeasyPrint already imported
    (``spawn`` costs each worker seconds of imports); ``spawn`` elsewhere, where fork is unsafe."""
    return get_context("fork" if sys.platform.startswith("linux") else "spawn")


_worker_app = None


def _start_worker(settings: dict) -> None:
    """Each process builds its own app, database engine and renderer; nothing is shared but the settings."""
    global _worker_app
    from surveyhub import create_app
    from surveyhub.rendering import render

    render.start_afresh()  # fonts and stylesheets are loaded again in this process
    _worker_app = create_app(settings)
    _worker_app.app_context().push()


def _worker_issue(project: str, codes: list[str], lang: str, out_dir: str) -> list[dict]:
    return _issue_chunk(project, codes, lang, out_dir, _worker_app.config["BASE_URL"])


def _issue_chunk(project: str, codes: list[str], lang: str, out_dir: str, url: str) -> list[dict]:
    """A few residents at a time: read, commit, render (no transaction open), register, commit, write.

    Two short transactions per chunk rather than per certificate: with
    SQLite every transaction takes the one write lock that all processes share.
    """
    from surveyhub.db import get_db
    from surveyhub.plugins import get_host, get_registry
    from surveyhub.services.outcomes import Thresholds

    with get_db().session() as session:
        ctx = context.for_command(session, registry=get_registry(), host=get_host(),
                                  thresholds=Thresholds.from_settings(current_app.config),
                                  base_url=url, lang=lang or "nl", project_slug=project)
        found = ctx.project(project, "project.rows")  # read once per chunk, not twice per certificate
        prepared = [docs.prepare_certificate(session, ctx.actor, project, code, base_url=url, lang=lang,
                                             host=ctx.host, project=found, registry=ctx.registry) for code in codes]
        session.commit()
        rendered = [docs.render(one) for one in prepared]
        issued = [docs.register(session, one, drawn) for one, drawn in zip(prepared, rendered)]
        session.commit()
    results = []
    for code, document in zip(codes, issued):
        target = Path(out_dir) / document.filename
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(document.pdf)
        partial.replace(target)
        results.append({"participant": code, "code": document.code, "file": document.filename,
                        "reused": document.reused})
    return results


# --- verify ------------------------------------------------------------------------------------------

@click.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@user_errors
def verify(file):
    """Say whether FILE is a genuine, unchanged SurveyHub document or Open Badge.

    Prints genuine, altered, revoked, withdrawn (the resident withdrew and their
    data was erased) or unknown. Exit code 0 only for genuine; 3 altered,
    4 revoked or withdrawn, 5 unknown, 1 when the file cannot be read.
    An Open Badge (.jwt) prints valid, altered, revoked, unknown or expired:
    0 only for valid; 3 altered, 4 revoked, 5 unknown, 6 expired or not yet valid.
    """
    try:
        with file.open("rb") as fh:  # never more than the largest document SurveyHub makes, plus one byte
            data = fh.read(MAX_VERIFY_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}") from exc
    if len(data) > MAX_VERIFY_BYTES:
        click.echo(f"unknown: the file is larger than any SurveyHub document ({MAX_VERIFY_BYTES // 2**20} MB)")
        sys.exit(EXIT_CODES["unknown"])
    from surveyhub.cli import badges  # an Open Badge (.jwt): valid, revoked, altered, unknown, expired

    if badges.looks_like_badge(data):
        sys.exit(badges.verify_badge(data))
    with session_scope(commit=False) as session:
        result = docs.verify_file(session, data)
    click.echo(_describe(result))
    sys.exit(EXIT_CODES[result.status])


def _describe(result) -> str:
    d = result.document
    if d is None:
        return "unknown: SurveyHub has no record of this file"
    issued = d.issued_at.strftime("%Y-%m-%d")
    line = f"{result.status}: {d.title} (code {d.code}, issued {issued} by {d.organisation})"
    if result.status == "altered":
        line += "; the file's content differs from what was issued"
    if result.status == "withdrawn":
        when = d.revoked_at.strftime("%Y-%m-%d")
        return line + f"; withdrawn {when}: the resident withdrew and their data was erased"
    if d.revoked:
        line += f"; revoked {d.revoked_at.strftime('%Y-%m-%d')}: {d.revoked_reason or ''}".rstrip(": ")
    return line


# --- signing keys ------------------------------------------------------------------------------------

@click.group("signing-key")
def signing_key():
    """An organisation's key for signing its documents (PAdES)."""


@signing_key.command("create")
@click.option("--org", "org_name", required=True, help="Organisation name or slug.")
@click.option("--replace", is_flag=True, help="Replace an existing key (documents signed with it stay valid).")
@with_appcontext
@user_errors
def signing_key_create(org_name, replace):
    """Make a key and a self-signed certificate for ORG; its documents are signed from now on."""
    from surveyhub.rendering.signing import create_key_pair, fingerprint

    with session_scope() as session:
        org = accounts.find_organisation(session, org_name)
        if org.signing_key_pem and not replace:
            raise UserError(f"{org.name} already has a signing key; add --replace to make a new one")
        key_pem, cert_pem = create_key_pair(org.name)
        org.signing_key_pem, org.signing_cert_pem = key_pem, cert_pem
        audit.record(session, "organisation.signing_key", organisation_id=org.id, target=f"organisation:{org.slug}",
                     details={"fingerprint": fingerprint(cert_pem), "replaced": bool(replace)})
        name = org.name
    click.echo(f"{name}: signing key created. Certificate SHA-256 fingerprint:")
    click.echo(fingerprint(cert_pem))


COMMANDS = [certificates, verify, signing_key]

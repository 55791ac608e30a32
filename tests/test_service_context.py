"""One ServiceContext per request or command: a project named by its slug is read once.

The report command used to turn its one slug into a project three or four times (the
actor, the report, the PDF, the audit event) and to resolve the thresholds in the command
and again in the service; these tests count the reads.
"""

from __future__ import annotations

import re
import types

import pytest

from surveyhub.services import access, context
from surveyhub.services.access import Actor
from surveyhub.services.errors import Forbidden, NotFound
from surveyhub.services.outcomes import Thresholds
from tests.fixtures.documents import demo  # noqa: F401 (fixture)
from tests.fixtures.statements import statements

#: A statement that turns a slug into a project (or its id or organisation).
SLUG_LOOKUP = re.compile(r"FROM projects\b.*\bprojects\.slug\s*=", re.IGNORECASE | re.DOTALL)


def slug_lookups(seen: list[str]) -> int:
    return sum(1 for statement in seen if SLUG_LOOKUP.search(statement))


@pytest.fixture
def project(make_org, make_project):
    org = make_org("Buurtwerk Noord")
    return org, make_project(org, "Buurttuin")


def _context(app, session, actor, **kwargs):
    from surveyhub.plugins import get_host, get_registry
    return context.ServiceContext(session=session, actor=actor, registry=get_registry(app), host=get_host(app),
                                  thresholds=Thresholds(), base_url="http://surveyhub.test", **kwargs)


def test_a_context_reads_a_project_once_and_checks_the_capability_every_time(app, session, project):
    org, info = project
    ctx = _context(app, session, Actor(organisation_id=org.id, role="worker"))
    with statements() as seen:
        first = ctx.project(info.slug, "project.outcomes")
        again = ctx.project(info.slug, "project.setup")
    assert first is again and first.slug == info.slug
    assert slug_lookups(seen) == 1
    with pytest.raises(Forbidden):
        ctx.project(info.slug, "org.manage")  # known to the context, still not the worker's to manage
    funder = _context(app, session, Actor(organisation_id=org.id, role="funder", user_id=0))
    with pytest.raises(NotFound):
        funder.project(info.slug, "project.outcomes")  # not shared with this funder: as if it did not exist


def test_a_command_context_acts_for_the_organisation_that_owns_the_project(app, session, project):
    org, info = project
    with statements() as seen:
        ctx = context.for_command(session, registry=None, host=None, thresholds=Thresholds(), base_url="",
                                  project_slug=info.slug)
        found = ctx.project(info.slug, "project.outcomes")
    assert ctx.actor == access.Actor(organisation_id=org.id, role="admin", source="cli")
    assert found.slug == info.slug and slug_lookups(seen) == 1
    with pytest.raises(NotFound, match="no project 'elders'"):
        context.for_command(session, registry=None, host=None, thresholds=Thresholds(), base_url="",
                            project_slug="elders")


def test_the_json_report_command_reads_its_project_once(runner, project):
    _org, info = project
    with statements() as seen:
        result = runner.invoke(args=["report", info.slug])
    assert result.exit_code == 0, result.output
    assert slug_lookups(seen) == 1


def test_the_pdf_report_command_reads_its_project_once_and_resolves_thresholds_once(runner, project,
                                                                                     monkeypatch):
    import surveyhub.services.documents as documents
    from surveyhub.services import outcomes

    resolved = []
    real_resolve = outcomes.resolve_thresholds

    def counting_resolve(*args, **kwargs):
        resolved.append(kwargs)
        return real_resolve(*args, **kwargs)

    def fake_issue(_session, prepared):  # everything but the rendering and registering
        return types.SimpleNamespace(pdf=b"%PDF-1.7 fake", code="ABCD-EFGH-JKLM", filename="rapport.pdf")

    monkeypatch.setattr(outcomes, "resolve_thresholds", counting_resolve)
    monkeypatch.setattr(documents, "issue", fake_issue)
    _org, info = project
    with statements() as seen:
        result = runner.invoke(args=["report", info.slug, "--format", "pdf", "-o", "/dev/null", "--min-n", "3"])
    assert result.exit_code == 0, result.output
    assert slug_lookups(seen) == 1
    assert resolved == [{"min_means": 3, "min_tests": None, "min_cell": None}]


def test_a_project_page_reads_its_project_once(app, client_for, make_user, project):
    """``requires`` checks the project through the request's context; the dashboard's report reuses it."""
    org, info = project
    worker = client_for(make_user("worker", org).email)
    worker.get(f"/projects/{info.slug}/outcomes")  # warm: the first request of a client loads more
    with statements() as seen:
        page = worker.get(f"/projects/{info.slug}/outcomes")
    assert page.status_code == 200
    assert slug_lookups(seen) == 1


def test_the_report_pdf_is_prepared_from_the_project_the_context_read(app, session, project):
    """The web's report download: ``requires`` read the project; preparing the PDF reads it no more."""
    from surveyhub.services import document_batches

    org, info = project
    ctx = _context(app, session, Actor(organisation_id=org.id, role="worker"))
    found = ctx.project(info.slug, "project.outcomes")
    with statements() as seen:
        prepared = document_batches.prepare_report(session, ctx.registry, ctx.actor, info.slug,
                                                   base_url=ctx.base_url, defaults=ctx.thresholds, project=found)
    assert prepared.kind == "report" and prepared.project_id == found.id
    assert slug_lookups(seen) == 0


def test_certificates_for_a_zip_are_prepared_from_one_read_of_the_project(app, session, demo):
    """The web's ZIP and the CLI's chunks pass the project they read (each certificate used to read it twice)."""
    from surveyhub.services import documents

    ctx = _context(app, session, demo.actor)
    found = ctx.project(demo.slug, "project.rows")
    codes = [c.code for c in documents.certificate_candidates(session, demo.actor, demo.slug)][:3]
    with statements() as seen:
        prepared = [documents.prepare_certificate(session, ctx.actor, demo.slug, code, base_url=ctx.base_url,
                                                  project=found) for code in codes]
    assert len(prepared) == 3 and {one.participant_code for one in prepared} == set(codes)
    assert slug_lookups(seen) == 0
    with statements() as seen:
        documents.prepare_certificate(session, ctx.actor, demo.slug, codes[0], base_url=ctx.base_url)
    assert slug_lookups(seen) == 1  # without it: the certificate's own read, which the resident's lookup reuses

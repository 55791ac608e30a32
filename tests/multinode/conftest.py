"""Two app servers and two workers on one PostgreSQL database and one Redis (issue 13, "past one machine").

The cluster is started once for the package: nodes ``a`` and ``b`` each run
``surveyhub serve`` (gunicorn, 2 workers) and ``surveyhub worker`` (one Huey
worker process) from instance folders of their own that share the secret key,
the database (a fresh copy of the migrated template), the queue and the
rate-limit store (Redis databases 1 and 2 of ``SURVEYHUB_TEST_REDIS_URL``,
emptied first). Without PostgreSQL or Redis the tests are skipped, and fail
under CI (``SURVEYHUB_REQUIRE_ALL_TESTS=1``), as the other PostgreSQL tests do.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, select, text

from tests.fixtures.postgres import copy_database, drop_database
from tests.fixtures.smtp import SmtpServer
from tests.multinode.cluster import ROOT, Cluster, Node

#: Residents who give consent and save pages (test a); a few more finish the questionnaire.
RESIDENTS = 50
FINISHERS = 3
#: Residents with a certificate (test c).
CERTIFICATES = 300
INSTRUMENTS = ["organising", "conversation", "cooperation"]
ADMIN_EMAIL, ADMIN_PASSWORD = "beheer@buurtwerk.example.org", "twee servers, een database"
#: Residents of the e-mail project (test d), with their addresses.
MAILED = [("Zoë Çelik", "zoe@bewoners.example.org"), ("Henk de Vries", "henk@bewoners.example.org"),
          ("Samira Amrani", "samira@bewoners.example.org")]
#: Guessed links allowed per address: the (N+1)th across both servers is refused (test b).
TOKEN_MISSES = 5
#: A run's worker that stopped this long ago has its items enqueued again by the next tick.
STALE_SECONDS = 15

PLUGIN = '''"""A webhook plugin whose server is down: every completed questionnaire is a problem to report."""

from surveyhub import hookimpl


@hookimpl
def surveyhub_response_completed(response):
    raise ConnectionError("webhook https://hooks.buurtwerk.test/done is unreachable")
'''


@dataclass
class World:
    """What the cluster was loaded with."""

    cluster: Cluster
    a: Node
    b: Node
    organisation_id: int
    admin_user_id: int
    certificates_slug: str
    pages_slug: str
    tokens: list[str]  # residents who save pages
    finishers: list[str]  # residents who finish the questionnaire
    pages: list[list[tuple[str, str]]]  # per page of the pre wave: (field name, item type)
    mail_slug: str  # a project whose residents have e-mail addresses (MAILED)
    smtp: SmtpServer  # the mail server every node sends to


def _documents_data():
    """``bench/_documents_data.py``: residents with pre and post answers, bulk-inserted."""
    spec = importlib.util.spec_from_file_location("_documents_data", ROOT / "bench" / "_documents_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed(cluster: Cluster) -> dict:
    """The certificates project first (its rows are inserted with their ids), then the page-save project."""
    from surveyhub.models import Project
    from surveyhub.plugins import get_registry
    from surveyhub.services import access, accounts, participants, projects, responses

    app = cluster.app()
    try:
        org_id, certificates_slug = _documents_data().build(app, CERTIFICATES)
        db = app.extensions["surveyhub.db"]
        with db.engine.begin() as conn:  # explicit ids leave PostgreSQL's sequences behind
            for table in ("participants", "consents", "responses", "answers", "scale_scores"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
        with db.session() as session:
            admin = accounts.create_user(session, org_id, ADMIN_EMAIL, "admin", ADMIN_PASSWORD)
            actor = access.Actor(organisation_id=org_id, role="admin", user_id=admin.id)
            info = projects.create_project(session, get_registry(app), actor, "Twee servers", INSTRUMENTS, False)
            invited = participants.add_participants(session, actor, info.slug, count=RESIDENTS + FINISHERS)
            mail_project = projects.create_project(session, get_registry(app), actor, "Post", ["organising"], False)
            participants.add_participants(session, actor, mail_project.slug, entries=MAILED)
            session.commit()
            project = session.scalar(select(Project).where(Project.slug == info.slug))
            pages = [[(slot.key, slot.item["type"]) for slot in page.slots]
                     for page in responses.pages_for(project, "pre")]
        tokens = [invitation.token for invitation in invited]
        return {"organisation_id": org_id, "admin_user_id": admin.id, "certificates_slug": certificates_slug,
                "pages_slug": info.slug, "tokens": tokens[:RESIDENTS], "finishers": tokens[RESIDENTS:],
                "pages": pages, "mail_slug": mail_project.slug}
    finally:
        app.extensions["surveyhub.db"].engine.dispose()


@pytest.fixture(scope="package")
def world(tmp_path_factory, postgres_server, postgres_template, redis_server):
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    name = copy_database(admin, postgres_template)
    url = postgres_server.set(database=name).render_as_string(hide_password=False)
    folder = tmp_path_factory.mktemp("multinode")
    (folder / "plugins").mkdir()
    (folder / "plugins" / "webhook_down.py").write_text(PLUGIN)
    smtp = SmtpServer().start()
    cluster = Cluster(folder, url, redis_server, PLUGINS_DIR=str(folder / "plugins"),
                      JOB_STALE_SECONDS=STALE_SECONDS, TOKEN_RATE_LIMIT=f"{TOKEN_MISSES} per day",
                      LOGIN_RATE_LIMIT="1000 per minute", PLUGIN_HOOK_TIMEOUT="5", **smtp.settings())
    try:
        data = seed(cluster)
        a, b = cluster.node("a"), cluster.node("b")
        for node in (a, b):
            cluster.serve(node, workers=2)
        for node in (a, b):
            cluster.worker(node, workers=1)
        cluster.wait_up()
        yield World(cluster, a, b, smtp=smtp, **data)
    finally:
        cluster.stop()
        smtp.stop()
        drop_database(admin, name)
        admin.dispose()

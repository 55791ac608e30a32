"""The processing register (AVG/GDPR art. 30) of one organisation, generated from what is really set up.

:func:`build` reads the organisation, its users, projects, funder shares and
retention periods, and the installation's settings (security measures, where
the data is stored) and returns plain sections. :func:`to_markdown` writes
them for ``surveyhub privacy register``; the admin page ``/admin/privacy``
renders the same sections as HTML. Texts go through the ``translate`` callable
the caller passes in (Flask-Babel's ``gettext``), so the register follows the
interface language and is Dutch by default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from surveyhub.models import Organisation, Participant, Project, ProjectShare, User
from surveyhub.models._types import utcnow
from surveyhub.services import retention
from surveyhub.services.errors import NotFound


def _plain(text: str, **values) -> str:
    return text % values if values else text


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    #: (column headings, rows) or None.
    table: tuple[list[str], list[list[str]]] | None = None
    #: Paragraphs after the list and the table.
    notes: list[str] = field(default_factory=list)


@dataclass
class Register:
    title: str
    intro: str
    sections: list[Section]


def build(session: Session, organisation_id: int, settings: Mapping,
          translate: Callable[..., str] = _plain) -> Register:
    """The register of one organisation; ``settings`` are the app's settings (``app.config``)."""
    _ = translate
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("organisation not found")
    users = list(session.scalars(select(User).where(User.organisation_id == org.id, User.active.is_(True))
                                 .order_by(User.email)))
    projects = list(session.scalars(select(Project).where(Project.organisation_id == org.id)
                                    .order_by(Project.name)))
    min_n = org.min_pairs_means if org.min_pairs_means is not None else settings.get("MIN_PAIRS_MEANS", 5)
    return Register(
        title=_("Processing register (GDPR article 30): %(org)s", org=org.name),
        intro=_("Made by SurveyHub on %(date)s from the settings this installation really uses.",
                date=utcnow().strftime("%Y-%m-%d")),
        sections=[_controller(org, users, _), _purposes(_), _subjects(session, users, projects, _),
                  _categories(_), _recipients(session, org, users, projects, min_n, _),
                  _retention(session, projects, settings, _), _security(users, settings, min_n, _),
                  _storage(settings, _)])


def _controller(org, users, _) -> Section:
    admins = ", ".join(u.email for u in users if u.role == "admin") or "-"
    return Section(_("Controller"), [_("Organisation: %(org)s.", org=org.name),
                                     _("Admins who manage SurveyHub: %(admins)s.", admins=admins)])


def _purposes(_) -> Section:
    return Section(_("Purposes"), items=[
        _("Measure what residents learn by taking part in community projects (a questionnaire at the start "
          "and at the end)."),
        _("Show the impact of projects to the organisation and its funders, only as numbers about groups."),
        _("Give certificates to residents."),
        _("Sign in staff and keep an audit trail of who did what."),
    ], notes=[_("Legal basis (to be confirmed by the organisation): the resident's consent, asked on the "
                     "start page and stored with its wording version; for staff accounts, legitimate interest.")])


def _subjects(session, users, projects, _) -> Section:
    live = [p.id for p in projects if p.purged_at is None]
    residents = session.scalar(select(func.count()).select_from(Participant)
                               .where(Participant.project_id.in_(live))) if live else 0
    staff = sum(1 for u in users if u.role in ("admin", "worker"))
    funders = sum(1 for u in users if u.role == "funder")
    return Section(_("Categories of data subjects"), table=(
        [_("Who"), _("Number now")],
        [[_("Residents taking part in a project"), str(residents or 0)],
         [_("Staff (admins and community workers)"), str(staff)],
         [_("Funders with an account"), str(funders)]]))


def _categories(_) -> Section:
    return Section(_("Categories of personal data"), items=[
        _("Residents: name and e-mail address (optional, typed in by a community worker)."),
        _("Residents: a pseudonymous code, a self-made code (anonymous link) and the personal link."),
        _("Residents: consent (date, wording version, language, whether quotes may be used)."),
        _("Residents: answers to the questionnaires, open answers included, and the scores computed from them."),
        _("Residents: certificates issued to them."),
        _("Residents: what they did in the project, in the community worker's words (printed on their "
          "certificate)."),
        _("Photos of what a project made or reached (these may show residents); removed with the residents' "
          "data after the retention period."),
        _("Staff: the job title they print under their signature on certificates."),
        _("Staff and funders: name, e-mail address, role, password hash, last login, two-factor secret "
          "when switched on."),
        _("Audit trail: what staff did, when, and from which network address."),
    ], notes=[_("Special categories of personal data: the built-in questionnaires ask none; residents "
                     "may still write them in open answers.")])


def _recipients(session, org, users, projects, min_n, _) -> Section:
    names = {p.id: p.name for p in projects}
    shared: dict[int, list[str]] = {}
    if names:
        for user_id, project_id in session.execute(select(ProjectShare.user_id, ProjectShare.project_id)
                                                   .where(ProjectShare.project_id.in_(names))):
            shared.setdefault(user_id, []).append(names[project_id])
    rows = [[u.email, ", ".join(sorted(shared.get(u.id, []))) or "-"] for u in users if u.role == "funder"]
    section = Section(_("Recipients"), paragraphs=[
        _("Admins and community workers of %(org)s see residents' data of their organisation's projects.",
          org=org.name),
        _("Funders see only the numbers of projects shared with them, about groups of at least %(n)s "
          "residents; never a name, a link or an answer.", n=min_n),
        _("There are no other recipients: SurveyHub sends no data to third parties."),
    ])
    if rows:
        section.table = ([_("Funder"), _("Projects shared with them")], rows)
    return section


def _retention(session, projects, settings, _) -> Section:
    default = int(settings.get("RETENTION_MONTHS", retention.DEFAULT_MONTHS))
    rows = []
    for project in projects:
        org = session.get(Organisation, project.organisation_id)
        due = retention.purge_due(session, project, default)
        source = (_("project") if project.retention_months is not None
                  else _("organisation") if org.retention_months is not None else _("installation"))
        state = (_("personal data removed on %(date)s", date=project.purged_at.strftime("%Y-%m-%d"))
                 if project.purged_at else _("archived") if project.archived_at else _("active"))
        rows.append([project.name, f"{retention.months_for(project, org, default)} ({source})",
                     due.strftime("%Y-%m-%d") if due and not project.purged_at else "-", state])
    daily = bool(int(settings.get("RETENTION_PURGE_DAILY", 1) or 0))
    return Section(_("Retention periods"), paragraphs=[
        _("Personal data is kept for a number of months after a project's last wave closes. Then it is "
          "deleted; only numbers about the whole group stay."),
        _("SurveyHub deletes it by itself once a day.") if daily
        else _("The daily deletion is switched off: run 'surveyhub retention purge' yourself."),
    ], table=([_("Project"), _("Months (set by)"), _("Deletion due"), _("Status")], rows) if rows else None)


def _security(users, settings, min_n, _) -> Section:
    staff = [u for u in users if u.role in ("admin", "worker")]
    with_totp = sum(1 for u in staff if u.totp_secret)
    https = str(settings.get("BASE_URL", "")).startswith("https://")
    items = [
        _("Passwords are stored only as argon2id hashes."),
        _("Every form is protected against cross-site request forgery (CSRF).") if settings.get(
            "WTF_CSRF_ENABLED", True) else _("Warning: protection against cross-site request forgery is off."),
        _("Rate limits: sign-in %(login)s, resident links %(token)s, self-made codes %(code)s.",
          login=settings.get("LOGIN_RATE_LIMIT", "-"), token=settings.get("TOKEN_RATE_LIMIT", "-"),
          code=settings.get("ANONYMOUS_CODE_RATE_LIMIT", "-")),
        *([_("Failed sign-ins per e-mail address, from anywhere: %(limit)s.",
             limit=settings["LOGIN_ACCOUNT_RATE_LIMIT"])] if settings.get("LOGIN_ACCOUNT_RATE_LIMIT") else []),
        _("Rate limits are counted in Redis, shared by every server process.")
        if str(settings.get("RATELIMIT_STORAGE_URI") or "").startswith("redis")
        else _("Rate limits are counted in the database, shared by every server process."),
        _("Two-factor sign-in (an app code) is available for admins and community workers; %(n)s of "
          "%(total)s have it on.", n=with_totp, total=len(staff)),
        _("The web address uses HTTPS: cookies travel only over HTTPS.") if https
        else _("Warning: the web address %(url)s does not use HTTPS.", url=settings.get("BASE_URL", "")),
        _("Personal links are long random codes; they are never written to a log."),
        _("Reports hide numbers about fewer than %(n)s residents.", n=min_n),
        _("An audit trail records sign-ins, downloads, views of personal links and changes to answers."),
        _("Backups: SurveyHub makes none itself. Back up the database encrypted and try a restore; a backup "
          "keeps deleted data until it expires."),
    ]
    return Section(_("Security measures"), items=items)


def _storage(settings, _) -> Section:
    url = make_url(str(settings.get("DATABASE_URL") or "sqlite://"))
    where = (_("a SQLite file on the SurveyHub server") if url.get_backend_name() == "sqlite"
             else _("PostgreSQL database %(db)s on %(host)s", db=url.database or "-", host=url.host or "localhost"))
    return Section(_("Where the data is stored"), items=[
        _("Database: %(where)s.", where=where),
        _("Pages load nothing from other websites, and SurveyHub sends no data elsewhere."),
        _("Whether data leaves the EU depends only on where this server and its backups are."),
    ])


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(register: Register) -> str:
    """The register as Markdown (headings, lists, tables)."""
    lines = [f"# {register.title}", "", register.intro, ""]
    for section in register.sections:
        lines += [f"## {section.heading}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        if section.items:
            lines += [f"- {item}" for item in section.items] + [""]
        if section.table:
            head, rows = section.table
            lines += ["| " + " | ".join(map(_cell, head)) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in rows] + [""]
        for note in section.notes:
            lines += [note, ""]
    return "\n".join(lines)

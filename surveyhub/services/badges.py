"""Open Badges 3.0 for residents: issue, list, revoke, and the project's badge rule.

The rule (which residents earn what) lives in ``badge_rules``; the credential's JSON, signature
and verification in ``badge_credentials``; the revocation list in ``badge_status``; the
organisation's key in ``badge_keys``; what the public URLs answer in ``badge_public``.
Issuing is idempotent: a badge once issued (the award: project, resident code, skill, kind) is
kept as it is, revoked or not, and never issued twice. One exception: when a resident's end
answers change afterwards (a paper form typed again, a file imported again) and a badge no longer
states what the answers show, it is revoked as ``CORRECTED`` and the award is judged again, so a
correct badge may replace it.

Permissions: issuing, listing and revoking need ``project.rows`` (the certificate's
capability: workers and admins, never funders); setting the rule ``project.setup``.
A resident reaches their own badges through their link (``for_participant``).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, object_session

from surveyhub.locale import translate
from surveyhub.models import BadgeCredential, Organisation, Project, Response, Wave
from surveyhub.models.badges import BADGE_RULES
from surveyhub.services import access, audit, badge_credentials as bc, badge_keys, badge_rules
from surveyhub.services.badge_rules import Award
from surveyhub.services.context import ServiceContext
from surveyhub.services.errors import N_, Invalid, NotFound

log = logging.getLogger(__name__)

#: The revocation reason when the resident withdrew and was erased.
WITHDRAWN = "withdrawn"
#: The revocation reason when the answers a badge rests on were corrected afterwards.
CORRECTED = "corrected"


@dataclass(frozen=True)
class BadgeInfo:
    """One issued badge as plain values, for the resident's page, the CLI and the API."""

    public_id: str
    participant_code: str
    skill: str
    #: The skill's (scale's) title per language, e.g. ``{"nl": "Samenwerken", "en": "Working together"}``.
    skill_label: dict
    kind: str
    #: The level's key and its label per language (level badges only).
    level: str | None
    level_label: dict | None
    #: The achievement's name and what earned it, in Dutch (as in the credential).
    name: str
    narrative: str
    issued_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    jwt: str

    @property
    def file_name(self) -> str:
        """``<code>-<skill>.jwt`` (the worker's folder of a project's badges): the skill as ``instrument-scale``
        (or the scale alone where it is named as its instrument), ``-level`` added for a level badge."""
        return f"{_file_safe(self.participant_code)}-{self.skill_file}.jwt"

    @property
    def own_file_name(self) -> str:
        """``badge-<skill>.jwt``: the file a resident downloads and hands to an employer carries no code."""
        return f"badge-{self.skill_file}.jwt"

    @property
    def skill_file(self) -> str:
        instrument, _, scale = self.skill.partition(":")
        instrument = instrument.split("@")[0]
        skill = (scale if scale == instrument else f"{instrument}-{scale}") + ("-level" if self.kind == "level" else "")
        return _file_safe(skill)

    def skill_in(self, lang: str) -> str:
        return translate(self.skill_label, lang)

    def level_in(self, lang: str) -> str | None:
        return translate(self.level_label, lang) if self.level_label else None


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "badge"


def info(row: BadgeCredential) -> BadgeInfo:
    facts = row.facts or {}
    return BadgeInfo(row.public_id, row.participant_code, row.skill, facts.get("scale_title") or {}, row.kind,
                     row.level, facts.get("level"), facts.get("name", ""), facts.get("narrative", ""),
                     row.issued_at, row.revoked_at, row.revoked_reason, row.jwt)


# --- the rule --------------------------------------------------------------------------------------

def set_rule(ctx: ServiceContext, slug: str, rule: str, level: str | None = None) -> None:
    """Set what the project issues badges for (``BADGE_RULES``) and, for level badges, the lowest level key
    (``level_choices``; None: each scale's highest level)."""
    project = ctx.project(slug, "project.setup")
    if rule not in BADGE_RULES:
        raise Invalid(N_("unknown badge rule %(rule)r"), rule=rule)
    if level is not None and level not in dict(badge_rules.level_choices(project)):
        raise Invalid(N_("unknown level %(level)r for this project"), level=level)
    project.badge_rule, project.badge_level = rule, level
    audit.record(ctx.session, "project.badge_rule", actor=ctx.actor, project_id=project.id,
                 target=f"project:{project.slug}", details={"rule": rule, "level": level})
    ctx.session.flush()


def level_choices(ctx: ServiceContext, slug: str) -> list[tuple[str, dict]]:
    """The levels a level badge may start at: (key, label per language), lowest first."""
    return badge_rules.level_choices(ctx.project(slug, "project.setup"))


# --- issuing ---------------------------------------------------------------------------------------

def issue_for_project(ctx: ServiceContext, slug: str) -> list[BadgeInfo]:
    """Issue every badge the project's rule gives that is not issued yet; returns all the project's current
    (not revoked) badges, the ones issued before included."""
    project = ctx.project(slug, "project.rows")
    _withdraw_outdated(ctx.session, project)
    new = _issue(ctx.session, project, badge_rules.awards(ctx.session, project), ctx.base_url)
    if new:
        audit.record(ctx.session, "badge.issue", actor=ctx.actor, project_id=project.id,
                     target=f"project:{project.slug}", details={"count": len(new)})
    return list_for_project(ctx, slug)


def issue_for_participant(session: Session, project: Project, participant_id: int, *,
                          base_url: str) -> list[BadgeInfo]:
    """Issue the badges one resident has earned (when a post response completes); returns the new ones.

    No actor: the resident's own completion triggers it. A badge whose scores the new answers changed
    is revoked (``CORRECTED``), also when the rule is off now; nothing is issued when it is off.
    """
    _withdraw_outdated(session, project, {participant_id})
    if project.badge_rule == "off":
        return []
    return _issue(session, project, badge_rules.awards(session, project, {participant_id}), base_url)


def issue_earned(session: Session, project: Project, *, base_url: str) -> list[BadgeInfo]:
    """Issue every badge the project's rule gives that is not issued yet, without an actor (the demo's
    playground, an answer import); returns the new ones. Badges the answers no longer bear out are
    revoked first (``CORRECTED``)."""
    _withdraw_outdated(session, project)
    if project.badge_rule == "off":
        return []
    return _issue(session, project, badge_rules.awards(session, project), base_url)


def on_completion(base_url: str) -> Callable[[Project, Response], None]:
    """``on_post_completed`` for ``responses.complete``: issue what a finished post wave earned.

    A failure is logged and never costs the resident their answers (the badge can be issued
    later with ``surveyhub badges`` or the project's badge page); a busy database is raised,
    so the caller's retry runs the whole save again.
    """
    def issue(project: Project, response: Response) -> None:
        session = object_session(project)
        if session is None or session.get_one(Wave, response.wave_id).kind != "post":
            return
        try:
            with session.begin_nested():
                issue_for_participant(session, project, response.participant_id, base_url=base_url)
        except DBAPIError as exc:
            if not isinstance(exc, IntegrityError):
                raise
            log.exception("issuing badges in project %s failed", project.slug)
        except Exception:
            log.exception("issuing badges in project %s failed", project.slug)
    return issue


def _withdraw_outdated(session: Session, project: Project, participant_ids: set[int] | None = None) -> int:
    """Revoke (``CORRECTED``) the project's valid badges whose scores the answers no longer show."""
    query = select(BadgeCredential).where(BadgeCredential.project_id == project.id,
                                          BadgeCredential.revoked_at.is_(None),
                                          BadgeCredential.participant_id.is_not(None))
    if session.scalar(query.with_only_columns(BadgeCredential.id).limit(1)) is None:
        return 0  # most projects: no badge to check, so a finishing resident pays one indexed query
    if participant_ids is not None:  # one resident finished: only their badges (a chain of own codes is one)
        query = query.where(BadgeCredential.participant_id.in_(
            badge_rules.same_residents(session, project, participant_ids)))
    rows = list(session.scalars(query))
    holds = badge_rules.still_stated(session, project, rows)
    outdated = [row for row in rows if not holds[row.id]]
    now = datetime.now(UTC)
    for row in outdated:
        row.revoked_at, row.revoked_reason = now, CORRECTED
        audit.record(session, "badge.revoke", organisation_id=project.organisation_id, who="system",
                     project_id=project.id, target=f"project:{project.slug}/badge:{row.public_id}",
                     details={"reason": CORRECTED})
    if outdated:
        session.flush()  # before a replacement takes the award's place
    return len(outdated)


def _issue(session: Session, project: Project, found: list[Award], base_url: str) -> list[BadgeInfo]:
    existing = set(session.execute(select(BadgeCredential.participant_code, BadgeCredential.skill,
                                          BadgeCredential.kind).where(
        BadgeCredential.project_id == project.id,
        BadgeCredential.revoked_reason.is_(None) | (BadgeCredential.revoked_reason != CORRECTED))))
    new = [award for award in found if (award.code, award.skill, award.kind) not in existing]
    if not new:
        return []
    _one_issuer_at_a_time(session, project.organisation_id)
    org = session.get_one(Organisation, project.organisation_id)
    key = badge_keys.active_key(session, org.id)
    issued = []
    for award in new:
        for attempt in range(5):  # another issuer took the same status bit: take the next one
            try:
                with session.begin_nested():
                    issued.append(_issue_one(session, project, org, key, award, base_url))
                break
            except IntegrityError:
                if session.scalar(select(BadgeCredential.id).where(
                        BadgeCredential.project_id == project.id, BadgeCredential.participant_code == award.code,
                        BadgeCredential.skill == award.skill, BadgeCredential.kind == award.kind,
                        BadgeCredential.revoked_at.is_(None))):
                    break  # issued meanwhile by someone else: kept as it is
                if attempt == 4:
                    raise
    return issued


def _one_issuer_at_a_time(session: Session, organisation_id: int) -> None:
    """Issuers of one organisation take turns: the first signing key and each next status bit are read
    after this write, which locks the organisation's row (PostgreSQL) or takes the write lock (SQLite),
    so two issuers at once never make two keys or take one bit twice. Held to the commit; issuing is short."""
    session.execute(update(Organisation).where(Organisation.id == organisation_id)
                    .values(slug=Organisation.slug))


def _issue_one(session: Session, project: Project, org: Organisation, signing_key, award: Award,
               base_url: str) -> BadgeInfo:
    index = int(session.scalar(select(func.coalesce(func.max(BadgeCredential.status_index) + 1, 0))
                               .where(BadgeCredential.organisation_id == org.id)) or 0)
    if index >= bc.STATUS_LIST_BITS:
        raise Invalid(N_("this organisation's badge status list is full"))
    public_id, now = str(uuid.uuid4()), datetime.now(UTC).replace(microsecond=0)
    facts = {**award.facts, "name": badge_rules.achievement_name(award.facts, award.kind),
             "narrative": badge_rules.narrative(award.facts, award.kind)}
    credential = bc.build_credential(base_url, org, award, facts, public_id, index, now,
                                     own=bc.own_instrument(session, org.id, award.instrument_id, award.version))
    row = BadgeCredential(public_id=public_id, organisation_id=org.id, project_id=project.id,
                          participant_id=award.participant_id, participant_code=award.code, skill=award.skill,
                          instrument_id=award.instrument_id, instrument_version=award.version, kind=award.kind,
                          level=award.level, facts=facts, status_index=index, key_id=signing_key.id,
                          jwt=bc.sign({**credential, **bc.jwt_claims(credential)}, signing_key, base_url, org.slug),
                          valid_from=now, issued_at=now)
    session.add(row)
    session.flush()
    return info(row)


def rotate_key(ctx: ServiceContext) -> str:
    """A new signing key for the actor's organisation (an admin's act); returns its ``kid``.

    The old key is retired, not removed: it stays published, so every badge it signed still verifies.
    """
    access.require(ctx.actor, "org.manage")
    _one_issuer_at_a_time(ctx.session, ctx.actor.organisation_id)
    key = badge_keys.rotate(ctx.session, ctx.actor.organisation_id)
    audit.record(ctx.session, "badge.key_rotate", actor=ctx.actor, target=f"key:{key.kid}")
    return key.kid


# --- reading and revoking --------------------------------------------------------------------------

def list_for_project(ctx: ServiceContext, slug: str, *, revoked: bool = False) -> list[BadgeInfo]:
    """The project's badges, oldest first; ``revoked`` True includes revoked ones."""
    project = ctx.project(slug, "project.rows")
    query = select(BadgeCredential).where(BadgeCredential.project_id == project.id)
    if not revoked:
        query = query.where(BadgeCredential.revoked_at.is_(None))
    return [info(row) for row in ctx.session.scalars(query.order_by(BadgeCredential.id))]


def for_participant(session: Session, participant_id: int, *, revoked: bool = False) -> list[BadgeInfo]:
    """One resident's current badges (for their own page, reached through their link), oldest first;
    ``revoked`` True includes revoked ones (the page names them as no longer valid)."""
    query = select(BadgeCredential).where(BadgeCredential.participant_id == participant_id)
    if not revoked:
        query = query.where(BadgeCredential.revoked_at.is_(None))
    rows = session.scalars(query.order_by(BadgeCredential.id))
    return [info(row) for row in rows]


def revoke(ctx: ServiceContext, public_id: str, reason: str) -> BadgeInfo:
    """Revoke one badge: its bit on the status list is set, so every verifier sees it revoked."""
    row = ctx.session.scalar(select(BadgeCredential).where(
        BadgeCredential.public_id == public_id.strip(), BadgeCredential.organisation_id == ctx.actor.organisation_id))
    if row is None:
        raise NotFound(f"no badge {public_id!r}")
    project = ctx.session.get_one(Project, row.project_id)
    ctx.project(project.slug, "project.rows")
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise Invalid(N_("say why the badge is revoked"))
    if row.revoked_at is None:
        row.revoked_at, row.revoked_reason = datetime.now(UTC), reason
        audit.record(ctx.session, "badge.revoke", actor=ctx.actor, project_id=project.id,
                     target=f"project:{project.slug}/badge:{row.public_id}", details={"reason": reason})
        ctx.session.flush()
    return info(row)


def revoke_for_erasure(session: Session, participant_id: int, pseudonym: str) -> int:
    """The resident is erased: revoke their badges and keep nothing about them.

    The row stays (its status bit says "revoked" to anyone who checks the credential), under the
    erasure's pseudonym instead of the resident's code, without scores or the signed text.
    """
    rows = list(session.scalars(select(BadgeCredential).where(BadgeCredential.participant_id == participant_id)))
    now = datetime.now(UTC)
    for row in rows:
        row.revoked_at = row.revoked_at or now
        row.revoked_reason = WITHDRAWN
        row.participant_id, row.participant_code = None, pseudonym[:64]
        row.facts = {"scale_title": (row.facts or {}).get("scale_title"), "level": (row.facts or {}).get("level")}
        row.jwt = ""
    session.flush()
    return len(rows)


def forget_for_retention(session: Session, project_id: int) -> int:
    """The project's retention period is over: keep no personal data with its badges.

    Unlike an erasure, nothing is revoked: a badge is the resident's own, signed and complete in
    itself, and stays valid on their CV. What goes is what we kept beside it: the resident's link
    and code (a placeholder per badge instead), the scores and the signed text.
    """
    rows = list(session.scalars(select(BadgeCredential).where(BadgeCredential.project_id == project_id,
                                                              BadgeCredential.jwt != "")))
    for row in rows:
        row.participant_id, row.participant_code = None, f"purged-{row.status_index}"
        row.facts = {"scale_title": (row.facts or {}).get("scale_title"), "level": (row.facts or {}).get("level")}
        row.jwt = ""
    session.flush()
    return len(rows)

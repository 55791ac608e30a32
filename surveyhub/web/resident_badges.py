"""A resident's Open Badges from their own link: "Your badges" and the download of each one.

``/q/<token>/badges`` lists the credentials the project issued to the resident
(``services.badges.for_participant``): per badge the skill, why in plain words,
the date and a download button, and how to put it on a CV or LinkedIn.
``/q/<token>/badges/<public_id>.jwt`` hands out the stored VC-JWT byte for byte.
The link resolves and counts towards the same budget of misses as every other
resident page (``limit_guessing``); a badge of someone else, or a revoked one, is
a 404 like an unknown link. Each download is recorded in the audit trail, as the
worker's downloads are, with the resident's number and never the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, render_template, url_for

from surveyhub.db import get_session
from surveyhub.i18n import current_language
from surveyhub.services import audit, badges, resident
from surveyhub.web.questionnaire import limit_guessing, resident_link
from surveyhub.web.session_user import public

bp = Blueprint("resident_badges", __name__)

#: The media type of a JWT (RFC 7519): the credential is signed with ``typ: JWT`` as OB 3.0 section 8.2 does.
JWT_MEDIA_TYPE = "application/jwt"


@dataclass(frozen=True)
class ShownBadge:
    """One badge as the resident's page shows it: words in the resident's language, no ORM object."""

    public_id: str
    skill: str
    kind: str
    level: str | None
    issued_at: datetime
    revoked: bool
    #: Revoked because the answers it rests on were corrected (``badges.CORRECTED``).
    corrected: bool
    file_name: str


def _shown(info: badges.BadgeInfo, lang: str) -> ShownBadge:
    return ShownBadge(public_id=info.public_id, skill=info.skill_in(lang), kind=info.kind, level=info.level_in(lang),
                      issued_at=info.issued_at, revoked=info.revoked_at is not None,
                      corrected=info.revoked_reason == badges.CORRECTED, file_name=info.own_file_name)


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/q/<token>/badges")
@public
@limit_guessing
def mine(token: str):
    link = resident_link(token)
    session, lang = get_session(), current_language()
    shown = [_shown(info, lang) for info in badges.for_participant(session, link.participant.id, revoked=True)]
    valid = [b for b in shown if not b.revoked]
    replaced = {(b.skill, b.kind) for b in valid}
    return render_template("resident_badges/mine.html", token=token, project=link.project,
                           organisation=resident.organisation_name(session, link.project), badges=valid,
                           revoked=[(b, b.corrected and (b.skill, b.kind) in replaced)
                                    for b in shown if b.revoked],
                           rule=link.project.badge_rule,
                           verify_url=current_app.config["BASE_URL"] + url_for("verify.check"))


@bp.route("/q/<token>/badges/<public_id>.jwt")
@public
@limit_guessing
def download(token: str, public_id: str):
    link = resident_link(token)
    session = get_session()
    found = next((info for info in badges.for_participant(session, link.participant.id)
                  if info.public_id == public_id and info.revoked_at is None), None)
    if found is None:
        abort(404)  # another resident's badge, a revoked one or a guess: like an unknown link
    project = link.project
    audit.record(session, "download.badge", organisation_id=project.organisation_id, project_id=project.id,
                 target=f"project:{project.slug}/{link.participant.code}", who="resident",
                 details={"kind": found.kind, "skill": found.skill})
    session.commit()
    response = Response(found.jwt.encode("ascii"), mimetype=JWT_MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{_safe(found.own_file_name)}"'
    return response


def _safe(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "-" for ch in name)


@bp.errorhandler(404)
def _not_found(exc):
    """A dead link gets the questionnaire's dead-end page, as on every resident page."""
    from surveyhub.web.questionnaire import _dead_end
    return _dead_end(exc)

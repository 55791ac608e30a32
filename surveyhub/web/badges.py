"""Open Badges 3.0, the public side: what a verifier anywhere fetches to check a SurveyHub badge.

- ``/ob/issuers/<org>``: the organisation's issuer ``Profile`` (with its public keys beside it);
- ``/ob/issuers/<org>/jwks.json``: its public keys as a JWK Set;
- ``/ob/issuers/<org>/keys/<kid>``: one public key, the URL each credential's ``kid`` names;
- ``/ob/issuers/<org>/status/1``: the revocation list (a signed BitstringStatusListCredential);
- ``/ob/achievements/<instrument>/<version>/<scale>[/<level>]``: what a badge stands for (an installed
  instrument; an organisation's own upload: ``/ob/issuers/<org>/achievements/...``).

No login, nothing about a resident: only what every credential already states. Thin
routes over ``services.badges`` (the resident's own badges are ``web/resident_badges.py``).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify

from surveyhub.db import get_session
from surveyhub.plugins import get_registry
from surveyhub.services import badge_public
from surveyhub.web.session_user import public

bp = Blueprint("badges", __name__)

#: The media type of the signed status list: a JWT (RFC 7519), ``typ: JWT`` as OB 3.0 section 8.2 signs.
JWT_MEDIA_TYPE = "application/jwt"


def _json(value: dict | None, max_age: int = 300):
    if value is None:
        abort(404)
    response = jsonify(value)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers in a browser (a wallet) may fetch it
    return response


def _base_url() -> str:
    return current_app.config["BASE_URL"]


@bp.get("/ob/issuers/<org_slug>")
@public
def issuer(org_slug: str):
    return _json(badge_public.issuer(get_session(), org_slug, _base_url()))


@bp.get("/ob/issuers/<org_slug>/jwks.json")
@public
def jwks(org_slug: str):
    return _json(badge_public.jwks(get_session(), org_slug))


@bp.get("/ob/issuers/<org_slug>/keys/<kid>")
@public
def key(org_slug: str, kid: str):
    return _json(badge_public.key(get_session(), org_slug, kid))


@bp.get("/ob/issuers/<org_slug>/status/1")
@public
def status_list(org_slug: str):
    session = get_session()
    signed = badge_public.status_list(session, org_slug, _base_url())
    if signed is None:
        abort(404)
    response = current_app.response_class(signed, mimetype=JWT_MEDIA_TYPE)
    response.headers["Cache-Control"] = "public, max-age=60"  # a revocation shows within a minute
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/ob/achievements/<instrument_id>/<int:version>/<scale_id>")
@bp.get("/ob/achievements/<instrument_id>/<int:version>/<scale_id>/<level>")
@bp.get("/ob/issuers/<org_slug>/achievements/<instrument_id>/<int:version>/<scale_id>")
@bp.get("/ob/issuers/<org_slug>/achievements/<instrument_id>/<int:version>/<scale_id>/<level>")
@public
def achievement(instrument_id: str, version: int, scale_id: str, level: str | None = None,
                org_slug: str | None = None):
    """An installed instrument's achievement, or (under its issuer) one of an organisation's own instruments."""
    found = badge_public.achievement(get_registry(), get_session(), instrument_id, version, scale_id, level,
                                     _base_url(), org_slug)
    return _json(found, max_age=3600)

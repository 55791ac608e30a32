"""What the public Open Badges URLs answer: issuer profile, keys, status list, achievement definitions.

Everything here is what issued credentials already state, and no more: an achievement is
only described once a badge for it was issued (so the URLs do not list an organisation's
own instruments), and nothing names or counts residents. Plain values in and out.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.measures.registry import InstrumentRegistry
from surveyhub.models import BadgeCredential, InstrumentVersion, Organisation
from surveyhub.services import badge_credentials as bc, badge_keys, badge_rules, badge_status
from surveyhub.services.instruments import UPLOAD_SCOPE_PREFIX


def _organisation(session: Session, org_slug: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.slug == org_slug))


def issuer(session: Session, org_slug: str, base_url: str) -> dict | None:
    """The OB 3.0 ``Profile`` of the organisation, its public keys beside it; None: no such organisation."""
    org = _organisation(session, org_slug)
    if org is None:
        return None
    return bc.issuer_profile(base_url, org, badge_keys.published(session, org.id))


def jwks(session: Session, org_slug: str) -> dict | None:
    org = _organisation(session, org_slug)
    return None if org is None else {"keys": badge_keys.published(session, org.id)}


def key(session: Session, org_slug: str, kid: str) -> dict | None:
    """One public JWK, the one a credential header's ``kid`` URL names."""
    org = _organisation(session, org_slug)
    found = badge_keys.by_kid(session, kid) if org is not None else None
    return dict(found.public_jwk) if found is not None and found.organisation_id == org.id else None  # type: ignore[union-attr]


def status_list(session: Session, org_slug: str, base_url: str) -> str | None:
    """The signed status list; None when the organisation never issued a badge (it has no key to sign with)."""
    org = _organisation(session, org_slug)
    return None if org is None else badge_status.signed_status_list(session, org, base_url)


def achievement(registry: InstrumentRegistry | None, session: Session, instrument_id: str, version: int,
                scale_id: str, level: str | None, base_url: str, org_slug: str | None = None) -> dict | None:
    """The ``Achievement`` an id URL names: the skill, the rule in words; None unless a badge for it exists.

    With ``org_slug``: an achievement of that organisation's own instrument, read from its upload only;
    without: an installed instrument's (never an upload of some organisation that has the same id)."""
    kind = "level" if level else "improvement"
    org = _organisation(session, org_slug) if org_slug else None
    if org_slug and org is None:
        return None
    issued = select(BadgeCredential.id).where(BadgeCredential.instrument_id == instrument_id,
                                              BadgeCredential.instrument_version == version,
                                              BadgeCredential.skill == f"{instrument_id}@{version}:{scale_id}",
                                              BadgeCredential.kind == kind)
    if level:
        issued = issued.where(BadgeCredential.level == level)
    if org is not None:
        issued = issued.where(BadgeCredential.organisation_id == org.id)
    if session.scalar(issued.limit(1)) is None:
        return None
    definition = _definition(registry, session, instrument_id, version, org)
    scale = next((s for s in (definition or {}).get("scales", ()) if s["id"] == scale_id), None)
    if definition is None or scale is None:
        return None
    facts: dict = {"instrument_title": definition["title"], "scale_title": scale["title"], "comparison": "post"}
    if level:
        found = next((lv for lv in scale.get("levels") or () if badge_rules.level_key(lv) == level), None)
        if found is None:
            return None
        facts["level"] = found["label"]
    return {"@context": [bc.VC_CONTEXT, bc.OB_CONTEXT],
            "id": bc.achievement_id(base_url, instrument_id, version, scale_id, level, org_slug),
            "type": ["Achievement"], "achievementType": "Competency", "inLanguage": "nl",
            "name": badge_rules.achievement_name(facts, kind),
            "description": badge_rules.achievement_description(facts, kind),
            "criteria": {"narrative": badge_rules.criteria(kind, "post")}}


def _definition(registry: InstrumentRegistry | None, session: Session, instrument_id: str, version: int,
                org: Organisation | None) -> dict | None:
    """The organisation's own upload (``org``), else the installed instrument (a retired one as stored)."""
    if org is not None:
        scope = f"{UPLOAD_SCOPE_PREFIX}{org.id}"
    else:
        loaded = registry.get(instrument_id, version) if registry is not None else None
        if loaded is not None:
            return loaded.definition
        scope = "*"
    return session.scalar(select(InstrumentVersion.definition).where(
        InstrumentVersion.scope == scope, InstrumentVersion.instrument_id == instrument_id,
        InstrumentVersion.version == version).limit(1))

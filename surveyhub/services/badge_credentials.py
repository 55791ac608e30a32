"""The Open Badges 3.0 credential itself: its JSON, its VC-JWT signature, and verifying one.

What is built here follows the OB 3.0 specification (1EdTech, with the VC Data Model 2.0):
an ``OpenBadgeCredential`` whose JWT payload is the credential at the top level plus the
registered claims ``iss`` (issuer id), ``jti`` (credential id) and ``nbf`` (validFrom) —
section 8.2, "JSON Web Token Proof Format". The JOSE header carries ``alg`` EdDSA (Ed25519),
``typ`` JWT, a ``kid`` URL that dereferences to the public JWK, and the ``jwk`` itself so the
credential can be checked offline. Revocation is a W3C BitstringStatusList: one bit per
credential of the organisation, published as a signed credential of its own (``badge_status``).

The subject is never named: ``credentialSubject.id`` is a random ``urn:uuid:`` of its own per
badge (and the JWT's ``sub``, as section 8.2 maps it), so the credential carries no name,
e-mail address, answer or resident code. Not even a salted hash of the code: a code has
2^25 values (``R-`` and five letters), so anyone holding the badge and its salt could try
them all and learn the code that keys the project's pseudonymous rows. Nothing here reads
Flask; the base URL comes in as a value.
"""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import BadgeCredential, InstrumentVersion, Organisation, SigningKey
from surveyhub.locale import translate
from surveyhub.services import badge_keys, badge_rules
from surveyhub.services.badge_rules import Award

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
#: The JSON Schema the credential claims to follow (shipped in tests/reference/ob3/ for the tests).
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
OB_SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"
#: Bits on an organisation's status list: 16 KB, the minimum the BitstringStatusList spec sets for privacy
#: (the list itself: ``badge_status``).
STATUS_LIST_BITS = 131072
STATUS_PURPOSE = "revocation"
#: A compact JWS larger than this is not one of ours (a credential is a few KB).
MAX_JWT_CHARS = 64 * 1024


# --- stable URLs ---------------------------------------------------------------------------------

def issuer_id(base_url: str, org_slug: str) -> str:
    return f"{base_url.rstrip('/')}/ob/issuers/{org_slug}"


def key_url(base_url: str, org_slug: str, kid: str) -> str:
    """The header's ``kid``: a URL that answers with the public JWK (``web/badges.py``)."""
    return f"{issuer_id(base_url, org_slug)}/keys/{kid}"


def status_list_url(base_url: str, org_slug: str) -> str:
    return f"{issuer_id(base_url, org_slug)}/status/1"


def achievement_id(base_url: str, instrument_id: str, version: int, scale_id: str, level: str | None = None,
                   org_slug: str | None = None) -> str:
    """An installed instrument's achievement is one for every organisation (``/ob/achievements/...``); an
    organisation's own upload lives under its issuer (``org_slug``): two organisations may upload the same id
    and version with different scales, and one id must never name two achievements."""
    tail = f"/{level}" if level else ""
    root = f"{issuer_id(base_url, org_slug)}/achievements" if org_slug else f"{base_url.rstrip('/')}/ob/achievements"
    return f"{root}/{instrument_id}/{version}/{scale_id}{tail}"


def own_instrument(session: Session, organisation_id: int, instrument_id: str, version: int) -> bool:
    """Whether the organisation uploaded this instrument version itself (its achievements are its own)."""
    from surveyhub.services.instruments import UPLOAD_SCOPE_PREFIX

    return session.scalar(select(InstrumentVersion.id).where(
        InstrumentVersion.scope == f"{UPLOAD_SCOPE_PREFIX}{organisation_id}",
        InstrumentVersion.instrument_id == instrument_id, InstrumentVersion.version == version)) is not None


def issuer_profile(base_url: str, org: Organisation, keys: list[dict] | None = None) -> dict:
    """The organisation's OB 3.0 ``Profile``; with ``keys``, its public keys as a JWK Set beside it."""
    profile: dict = {"@context": [VC_CONTEXT, OB_CONTEXT], "id": issuer_id(base_url, org.slug),
                     "type": ["Profile"], "name": org.name, "url": base_url.rstrip("/")}
    if keys is not None:
        profile["publicKeys"] = {"keys": keys}  # not an OB term: a convenience for verifiers reading the profile
    return profile


# --- the credential ------------------------------------------------------------------------------

def build_credential(base_url: str, org: Organisation, award: Award, facts: dict, public_id: str,
                     status_index: int, valid_from: datetime, *, own: bool = False) -> dict:
    """The OpenBadgeCredential (VC 2.0 + OB 3.0) for one award: no name, e-mail address or answer in it.

    ``own``: the instrument is the organisation's own upload (see ``achievement_id``)."""
    achievement = {
        "id": achievement_id(base_url, award.instrument_id, award.version, award.scale_id, award.level,
                             org.slug if own else None),
        "type": ["Achievement"], "achievementType": "Competency", "inLanguage": "nl",
        "name": facts["name"], "description": badge_rules.achievement_description(facts, award.kind),
        "criteria": {"narrative": badge_rules.criteria(award.kind, facts.get("comparison"))},
        "creator": {"id": issuer_id(base_url, org.slug), "type": ["Profile"], "name": org.name},
    }
    status_list = status_list_url(base_url, org.slug)
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{public_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": facts["name"],
        "issuer": {"id": issuer_id(base_url, org.slug), "type": ["Profile"], "name": org.name},
        "validFrom": iso(valid_from),
        "credentialSubject": {
            "id": f"urn:uuid:{uuid.uuid4()}",  # random: links to no code, no other badge of the resident
            "type": ["AchievementSubject"],
            "achievement": achievement,
            "narrative": facts["narrative"],
        },
        "evidence": [_evidence(award, facts)],
        "credentialStatus": {"id": f"{status_list}#{status_index}", "type": "BitstringStatusListEntry",
                             "statusPurpose": STATUS_PURPOSE, "statusListIndex": str(status_index),
                             "statusListCredential": status_list},
        "credentialSchema": [{"id": OB_SCHEMA, "type": OB_SCHEMA_TYPE}],
    }


def _evidence(award: Award, facts: dict) -> dict:
    """What was measured, and when: the instrument, its version, the skill and the wave dates — never answers."""
    title, skill = translate(facts["instrument_title"], "nl"), translate(facts["scale_title"], "nl")
    dates = [_day(facts.get("start_at")), _day(facts.get("now_at"))]
    when = f"nulmeting {dates[0]}, eindmeting {dates[1]}" if dates[0] else f"eindmeting {dates[1]}"
    return {"type": ["Evidence"], "name": f"Vragenlijst {title} ({award.instrument_id}, versie {award.version})",
            "description": f"Gemeten: de vaardigheid {skill}; {when}. De antwoorden zelf staan niet in deze badge.",
            "genre": "Vragenlijst"}


def _day(iso_text: str | None) -> str | None:
    return iso_text[:10] if iso_text else None


# --- signing -------------------------------------------------------------------------------------

def sign(payload: dict, key: SigningKey, base_url: str, org_slug: str) -> str:
    """The compact JWS of ``payload`` with the organisation's key (OB 3.0 section 8.2 header)."""
    header = {"alg": badge_keys.ALGORITHM, "typ": "JWT", "kid": key_url(base_url, org_slug, key.kid),
              "jwk": {k: v for k, v in key.public_jwk.items() if k in ("kty", "crv", "x", "kid")}}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    with _eddsa_allowed():
        return jws.serialize_compact(header, body, badge_keys.private_key(key), algorithms=[badge_keys.ALGORITHM])


@contextmanager
def _eddsa_allowed() -> Iterator[None]:
    """joserfc warns that RFC 9864 deprecates the name ``EdDSA`` for its fully specified ``Ed25519``.

    OB 3.0 verifiers and PyJWT know only ``EdDSA`` (with an Ed25519 key it means exactly
    Ed25519), so we keep it and silence that one warning here, nowhere else.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        yield


def jwt_claims(credential: dict) -> dict:
    """The registered claims OB 3.0 section 8.2 maps from the credential: ``iss``, ``jti``, ``nbf``, ``sub``."""
    return {**jwt_claims_for(credential["issuer"]["id"], credential), "sub": credential["credentialSubject"]["id"]}


def jwt_claims_for(issuer: str, credential: dict) -> dict:
    return {"iss": issuer, "jti": credential["id"], "nbf": int(_parse_time(credential["validFrom"]).timestamp())}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


# --- status list ---------------------------------------------------------------------------------

def revoked_indexes(session: Session, organisation_id: int) -> list[int]:
    return list(session.scalars(select(BadgeCredential.status_index).where(
        BadgeCredential.organisation_id == organisation_id, BadgeCredential.revoked_at.is_not(None))))


# --- verifying -----------------------------------------------------------------------------------

#: What ``verify`` can say, best first; only "valid" is a credential to trust.
STATUSES = ("valid", "revoked", "expired", "not_yet_valid", "bad_signature", "unknown_issuer", "malformed")


@dataclass(frozen=True)
class CredentialCheck:
    """What checking one credential found, in plain values a page or the CLI can show."""

    status: str
    credential_id: str | None = None
    issuer_name: str | None = None
    issuer_id: str | None = None
    #: The achievement's name (the badge's title), what earned it (with the numbers) and the rule in words.
    achievement: str | None = None
    narrative: str | None = None
    criteria: str | None = None
    valid_from: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    @property
    def valid(self) -> bool:
        return self.status == "valid"


def verify(session: Session, jwt_text: str, base_url: str, now: datetime | None = None) -> CredentialCheck:
    """Check a VC-JWT issued here: the issuer is an organisation of this installation, the signature is
    its key's, the claims agree with the credential, it is in its validity window and not revoked."""
    now = now or datetime.now(UTC)
    text = "".join((jwt_text or "").split())
    if not text or len(text) > MAX_JWT_CHARS or text.count(".") != 2:
        return CredentialCheck("malformed")
    try:
        header = json.loads(_b64(text.split(".")[0]))
        payload = json.loads(_b64(text.split(".")[1]))
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python's stack (64 KB of '[')
        return CredentialCheck("malformed")
    if not isinstance(header, dict) or not isinstance(payload, dict) or not isinstance(payload.get("issuer"), dict):
        return CredentialCheck("malformed")
    org, key = _issuer_and_key(session, header, payload, base_url)
    facts = _facts(payload, org)
    if org is None or key is None:
        return CredentialCheck("unknown_issuer", **facts)
    try:
        with _eddsa_allowed():
            jws.deserialize_compact(text, badge_keys.verifying_key(key), algorithms=[badge_keys.ALGORITHM])
    except (JoseError, ValueError):
        return CredentialCheck("bad_signature", **facts)
    return _judge(session, org, payload, facts, now)


def _judge(session: Session, org: Organisation, payload: dict, facts: dict, now: datetime) -> CredentialCheck:
    try:
        subject_id = _obj(payload, "credentialSubject").get("id")
        claims_agree = payload.get("jti") == payload.get("id") and payload.get("iss") == payload["issuer"]["id"] \
            and int(payload["nbf"]) == int(_parse_time(payload["validFrom"]).timestamp()) \
            and payload.get("sub", subject_id) == subject_id
        valid_until = _parse_time(payload["validUntil"]) if payload.get("validUntil") else None
    except (KeyError, TypeError, ValueError):
        return CredentialCheck("malformed", **facts)
    if not claims_agree or facts["valid_from"] is None:
        return CredentialCheck("malformed", **facts)
    if facts["valid_from"] > now:
        return CredentialCheck("not_yet_valid", **facts)
    if valid_until is not None and valid_until <= now:
        return CredentialCheck("expired", **facts)
    row = session.scalar(select(BadgeCredential).where(BadgeCredential.organisation_id == org.id,
                                                       BadgeCredential.public_id == str(payload["id"])[9:]))
    status = payload.get("credentialStatus") or {}
    index = _int(status.get("statusListIndex"))
    revoked = index is not None and index in set(revoked_indexes(session, org.id))
    if revoked or (row is not None and row.revoked_at is not None):
        return CredentialCheck("revoked", **facts, revoked_at=row.revoked_at if row else None,
                               revoked_reason=row.revoked_reason if row else None)
    return CredentialCheck("valid", **facts)


def _issuer_and_key(session: Session, header: dict, payload: dict, base_url: str):
    """The organisation named by the issuer id, and its key named by the header's ``kid`` (else None)."""
    prefix = f"{base_url.rstrip('/')}/ob/issuers/"
    issuer = str(payload["issuer"].get("id") or "")
    if not issuer.startswith(prefix) or "/" in issuer[len(prefix):]:
        return None, None
    org = session.scalar(select(Organisation).where(Organisation.slug == issuer[len(prefix):]))
    kid = str(header.get("kid") or "").rsplit("/", 1)[-1]
    key = badge_keys.by_kid(session, kid) if kid else None
    if org is None or key is None or key.organisation_id != org.id or header.get("alg") != badge_keys.ALGORITHM:
        return org, None
    return org, key


def _facts(payload: dict, org: Organisation | None) -> dict:
    subject = _obj(payload, "credentialSubject")
    achievement = _obj(subject, "achievement")
    try:
        valid_from: datetime | None = _parse_time(str(payload.get("validFrom")))
    except ValueError:
        valid_from = None
    return {"credential_id": _str(payload.get("id")), "issuer_id": _str(payload["issuer"].get("id")),
            "issuer_name": org.name if org is not None else _str(payload["issuer"].get("name")),
            "achievement": _str(achievement.get("name")), "narrative": _str(subject.get("narrative")),
            "criteria": _str(_obj(achievement, "criteria").get("narrative")), "valid_from": valid_from}


def _obj(parent: dict, name: str) -> dict:
    value = parent.get(name)
    return value if isinstance(value, dict) else {}


def _str(value) -> str | None:
    return value[:500] if isinstance(value, str) else None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))

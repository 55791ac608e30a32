"""The organisation's own settings, as an admin changes them in the browser.

Name, brand colour, contact line, certificates (orientation, language), the
default retention period, the report's small-number thresholds, and the key
that signs documents. Every change is audited (``organisation.settings`` with
the names of the fields that changed, never their old values in full; the
signing key as ``organisation.signing_key`` with its fingerprint).

Thresholds may be stricter than the installation's but never looser: the
installation's values (``SURVEYHUB_MIN_PAIRS_*``, ``SURVEYHUB_MIN_CELL``) are floors,
so an organisation cannot make its reports show smaller groups than the
installation allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyhub.models import Organisation
from surveyhub.services import access, audit
from surveyhub.services.access import Actor
from surveyhub.services.errors import N_, Conflict, Invalid
from surveyhub.services.outcomes import Thresholds
from surveyhub.services.project_form import PROJECT_LANGUAGES
from surveyhub.services.projects import MAX_RETENTION_MONTHS
from surveyhub.text import clean

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ORIENTATIONS = ("landscape", "portrait")


@dataclass(frozen=True)
class OrgSettings:
    name: str
    brand_colour: str
    contact: str | None
    certificate_orientation: str
    #: None: each resident's own language.
    certificate_language: str | None
    retention_months: int | None
    min_pairs_means: int | None
    min_pairs_tests: int | None
    min_cell: int | None
    #: SHA-256 fingerprint of the signing certificate; None without a key.
    signing_fingerprint: str | None
    #: Count our projects (anonymously, pooled) in reference values for other organisations.
    shares_reference: bool = True


def current(session: Session, actor: Actor) -> OrgSettings:
    access.require(actor, "org.manage")
    org = access.organisation(session, actor)
    return OrgSettings(org.name, org.brand_colour, org.contact,
                       "portrait" if org.certificate_orientation == "portrait" else "landscape",
                       org.certificate_language, org.retention_months, org.min_pairs_means, org.min_pairs_tests,
                       org.min_cell, _fingerprint(org.signing_cert_pem), bool(org.shares_reference))


def _fingerprint(cert_pem: bytes | None) -> str | None:
    if not cert_pem:
        return None
    from surveyhub.rendering.signing import fingerprint
    try:
        return fingerprint(cert_pem)
    except ValueError:
        return None


def _check(values: OrgSettings, floors: Thresholds, session: Session, org: Organisation) -> OrgSettings:
    name = " ".join(clean(values.name or "").split())
    if not name or len(name) > 200:
        raise Invalid(N_("the organisation needs a name of at most 200 characters"))
    if name != org.name and session.scalar(select(Organisation.id).where(Organisation.name == name)):
        raise Conflict(N_("another organisation already has this name; choose another"))
    if not _COLOUR.match(values.brand_colour or ""):
        raise Invalid(N_("a colour is written as # and six characters 0-9 or a-f, e.g. #1f5f8b"))
    contact = " ".join(clean(values.contact or "").split()) or None
    if contact and len(contact) > 300:
        raise Invalid(N_("the contact line can have at most 300 characters"))
    if values.certificate_orientation not in ORIENTATIONS:
        raise Invalid(N_("a certificate is landscape or portrait"))
    if values.certificate_language not in (None, *PROJECT_LANGUAGES):
        raise Invalid(N_("choose a language from the list"))
    months = values.retention_months
    if months is not None and not 1 <= months <= MAX_RETENTION_MONTHS:
        raise Invalid(N_("the retention period must be between 1 and %(max)s months"), max=MAX_RETENTION_MONTHS)
    for given, floor in ((values.min_pairs_means, floors.min_means), (values.min_pairs_tests, floors.min_tests),
                         (values.min_cell, floors.min_cell)):
        if given is not None and not floor <= given <= 1000:
            raise Invalid(N_("a threshold can be stricter than this installation's (%(floor)s), not looser: "
                             "enter %(floor)s or more, or leave it empty"), floor=floor)
    means = values.min_pairs_means if values.min_pairs_means is not None else floors.min_means
    if values.min_pairs_tests is not None and values.min_pairs_tests < means:
        raise Invalid(N_("tests need at least as many pairs as means (%(n)s)"), n=means)
    return OrgSettings(name, values.brand_colour.lower(), contact, values.certificate_orientation,
                       values.certificate_language, months, values.min_pairs_means, values.min_pairs_tests,
                       values.min_cell, None, bool(values.shares_reference))


#: The settings fields and the model columns they set.
FIELDS = ("name", "brand_colour", "contact", "certificate_orientation", "certificate_language",
          "retention_months", "min_pairs_means", "min_pairs_tests", "min_cell", "shares_reference")


def update(session: Session, actor: Actor, values: OrgSettings, floors: Thresholds) -> list[str]:
    """Check and store every field; returns the names of those that changed (audited together)."""
    access.require(actor, "org.manage")
    org = access.organisation(session, actor)
    checked = _check(values, floors, session, org)
    changed = [f for f in FIELDS if getattr(org, f) != getattr(checked, f)]
    details: dict = {"changed": changed}
    for f in changed:
        if f != "contact":  # the contact line may hold a person's phone number: only say it changed
            details[f] = {"from": getattr(org, f), "to": getattr(checked, f)}
        setattr(org, f, getattr(checked, f))
    if changed:
        audit.record(session, "organisation.settings", actor=actor, target=f"organisation:{org.slug}",
                     details=details)
    session.flush()
    return changed


def create_signing_key(session: Session, actor: Actor, *, replace: bool = False) -> str:
    """A new key and self-signed certificate (as ``surveyhub signing-key create``); returns its fingerprint."""
    from surveyhub.rendering.signing import create_key_pair

    access.require(actor, "org.manage")
    org = access.organisation(session, actor)
    if org.signing_key_pem and not replace:
        raise Conflict(N_("the organisation already has a signing key; choose to replace it"))
    key_pem, cert_pem = create_key_pair(org.name)
    return _store_key(session, actor, org, key_pem, cert_pem, "created", bool(org.signing_key_pem))


def import_signing_key(session: Session, actor: Actor, key_pem: bytes, cert_pem: bytes) -> str:
    """An existing key and its certificate (PEM, the key without a passphrase); they must belong together."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    access.require(actor, "org.manage")
    org = access.organisation(session, actor)
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        cert = x509.load_pem_x509_certificate(cert_pem)
    except (ValueError, TypeError):
        raise Invalid(N_("the files cannot be read: give a PEM key without a passphrase and its PEM certificate")) \
            from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.PEM, public) != \
            cert.public_key().public_bytes(serialization.Encoding.PEM, public):
        raise Invalid(N_("the key and the certificate do not belong together"))
    return _store_key(session, actor, org, key_pem, cert_pem, "imported", bool(org.signing_key_pem))


def _store_key(session, actor, org, key_pem: bytes, cert_pem: bytes, how: str, replaced: bool) -> str:
    from surveyhub.rendering.signing import fingerprint

    org.signing_key_pem, org.signing_cert_pem = key_pem, cert_pem
    printed = fingerprint(cert_pem)
    audit.record(session, "organisation.signing_key", actor=actor, target=f"organisation:{org.slug}",
                 details={"fingerprint": printed, "replaced": replaced, "how": how})
    session.flush()
    return printed

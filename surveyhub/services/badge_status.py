"""An organisation's revocation list: a W3C BitstringStatusListCredential, signed like its badges.

One bit per badge (``BadgeCredential.status_index``), set when the badge is revoked. The list is
16 KB (131,072 bits) whatever the number of badges, as the BitstringStatusList spec asks, so the
list says nothing about how many badges an organisation issued or which one a verifier checks.
"""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from surveyhub.models import Organisation
from surveyhub.services import badge_keys
from surveyhub.services.badge_credentials import (STATUS_LIST_BITS, STATUS_PURPOSE, VC_CONTEXT, iso, issuer_id,
                                                  jwt_claims_for, revoked_indexes, sign, status_list_url)


def encode_bits(indexes: list[int], size: int = STATUS_LIST_BITS) -> str:
    """The bitstring as the spec writes it: bit 0 is the most significant bit of byte 0; gzip, base64url."""
    bits = bytearray(size // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def bit_set(encoded: str, index: int) -> bool:
    """Whether bit ``index`` is set in an ``encodedList`` (the multibase ``u`` prefix is optional)."""
    text = encoded[1:] if encoded.startswith("u") else encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return index < len(raw) * 8 and bool(raw[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(session: Session, org: Organisation, base_url: str) -> dict:
    """The organisation's BitstringStatusListCredential (unsigned JSON) with every revoked bit set."""
    url = status_list_url(base_url, org.slug)
    return {"@context": [VC_CONTEXT], "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer_id(base_url, org.slug), "validFrom": iso(datetime.now(UTC)),
            "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                                  "statusPurpose": STATUS_PURPOSE,
                                  "encodedList": encode_bits(revoked_indexes(session, org.id))}}


def signed_status_list(session: Session, org: Organisation, base_url: str) -> str | None:
    """The status list credential as a VC-JWT signed with the organisation's newest key; None without a key
    (an organisation that never issued a badge has no list)."""
    key = badge_keys.newest(session, org.id)
    if key is None:
        return None
    credential = status_list_credential(session, org, base_url)
    claims = {**jwt_claims_for(credential["issuer"], credential), "sub": credential["credentialSubject"]["id"]}
    return sign({**credential, **claims}, key, base_url, org.slug)

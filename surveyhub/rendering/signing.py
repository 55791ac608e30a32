"""An organisation's own signing key, and PAdES signatures on its documents.

``create_key_pair`` makes an RSA key and a self-signed certificate (PEM) for
``surveyhub signing-key create``. ``sign_pdf`` adds a PAdES signature (an
incremental update, so the rendered PDF stays intact inside the signed one).

Signing is made deterministic on purpose: the signing time is the
document's issue time, the second half of the file identifier is derived
from the content and the metadata is not stamped "modified now", so signing
the same rendering again gives the same bytes (RSA PKCS#1 v1.5 signatures are
deterministic). This leans on two pyhanko internals (``_document_id``,
``_update_meta``); ``tests/test_documents_certificate.py`` fails loudly if an
upgrade changes them. That is what lets SurveyHub
recognise an unchanged document instead of issuing a duplicate. Self-signed
means a PDF reader shows the signature as valid but of unknown identity;
the verification page is the authority, the signature proves integrity
offline.
"""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import get_pyca_cryptography_hash

KEY_BITS = 3072
VALID_YEARS = 5
FIELD_NAME = "SurveyHub"


class SigningError(Exception):
    """The organisation's key or certificate cannot be used."""


def create_key_pair(organisation: str, now: datetime | None = None) -> tuple[bytes, bytes]:
    """``(key_pem, cert_pem)``: a new RSA key and a self-signed certificate naming the organisation."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, organisation[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64])])
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365 * VALID_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def fingerprint(cert_pem: bytes) -> str:
    """SHA-256 fingerprint of a certificate, ``AB:CD:...``, for the organisation to publish."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


class _StableWriter(IncrementalPdfFileWriter):
    """An incremental writer that adds only the signature.

    pyhanko would also stamp "modified now" into the document's XMP and info
    dictionary, and draw a random second file identifier; both would make
    signing the same rendering twice give different bytes. The rendered
    metadata (title, language, PDF/UA identification) stays as it was.
    """

    def __init__(self, pdf: bytes):
        super().__init__(io.BytesIO(pdf))
        self._document_id = generic.ArrayObject([self._document_id[0],
                                                 generic.ByteStringObject(hashlib.md5(pdf).digest())])

    def _update_meta(self):
        pass


class _FixedTimeSigner(signers.PdfSigner):
    """A PdfSigner whose signing time is given, not read from the clock."""

    signing_time: datetime | None = None

    def init_signing_session(self, pdf_out, existing_fields_only=False):
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        if self.signing_time is not None:
            session.system_time = self.signing_time
        return session


class _ParsedKeySigner(signers.SimpleSigner):
    """A SimpleSigner that keeps its parsed RSA key.

    pyhanko parses (and so checks) the private key again for every signature,
    twice per document; for an RSA key that is most of the signing time.
    """

    def __init__(self, parsed_key, **kwargs):
        super().__init__(**kwargs)
        self._parsed_key = parsed_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if mechanism != "rsassa_pkcs1v15" or not isinstance(self._parsed_key, rsa.RSAPrivateKey):
            return super().sign_raw(data, digest_algorithm)
        return self._parsed_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


@lru_cache(maxsize=16)
def _signer(key_pem: bytes, cert_pem: bytes) -> signers.SimpleSigner:
    """The organisation's signer, loaded once per process."""
    try:
        key = load_private_key_from_pemder_data(key_pem, passphrase=None)
        parsed = serialization.load_pem_private_key(key_pem, password=None)
        certs = list(load_certs_from_pemder_data(cert_pem))
    except Exception as exc:  # noqa: BLE001 - any unreadable PEM is the same user problem
        raise SigningError(f"the organisation's signing key cannot be read: {exc}") from exc
    if not certs:
        raise SigningError("the organisation's signing certificate is missing")
    return _ParsedKeySigner(parsed, signing_cert=certs[0], signing_key=key, cert_registry=None)


def sign_pdf(pdf: bytes, key_pem: bytes, cert_pem: bytes, signing_time: datetime, reason: str) -> bytes:
    """``pdf`` with an invisible PAdES signature, the same bytes for the same input."""
    signer = _signer(key_pem, cert_pem)
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, subfilter=SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason=reason[:200])
    writer = _StableWriter(pdf)
    pdf_signer = _FixedTimeSigner(meta, signer)
    pdf_signer.signing_time = signing_time.astimezone(timezone.utc).replace(microsecond=0)
    # pyhanko's sync API starts an event loop of its own (asyncio.run); a caller
    # that already runs one (an async server, a Playwright test) would make that
    # fail, so the signature is made in a thread with no loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: pdf_signer.sign_pdf(writer).getvalue()).result()

"""Stations' client certificates: the CA that signs what a station asks for (OCPP
SignCertificate), so it can connect with security profile 3.

A station makes its key pair and sends a certificate signing request; we sign it only when its
signature is sound, its key is one TLS stacks accept at a bounded cost, and its common name is
the station's identity, the name its connections are then checked against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeAlias

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# RSA keys outside this range are refused: smaller ones are weak, larger ones cost a TLS
# handshake (and our signature check) more than a station needs.
RSA_KEY_BITS = (2048, 4096)
EC_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
SIGNING_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
# Signed certificates start this early, so a station whose clock is a little behind already
# trusts them.
CLOCK_SKEW = timedelta(minutes=5)

SigningKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class CsrRefused(Exception):
    """A signing request we do not sign; the message says why, for the station's record."""


@dataclass(frozen=True)
class StationCA:
    certificate: x509.Certificate
    key: SigningKey
    validity: timedelta

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def load_station_ca(cert_file: Path, key_file: Path, days: int) -> StationCA:
    """The CA from its PEM files; ValueError naming what is wrong with them."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise ValueError(f"cannot read the station CA: {error}") from None
    if not isinstance(key, SIGNING_KEYS):
        raise ValueError("the station CA's key is neither RSA, EC nor Ed25519")
    if key.public_key() != certificate.public_key():
        raise ValueError("the station CA's key does not belong to its certificate")
    return StationCA(certificate, key, timedelta(days=days))


def sign_station_csr(ca: StationCA, csr_pem: str, identity: str, now: datetime) -> str:
    """The signed certificate followed by the CA's (PEM), for the station `identity`.
    CPU work (a signature check and a signature): run it off the event loop."""
    csr = _checked_request(csr_pem, identity)
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.certificate.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(min(now + ca.validity, ca.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(csr.public_key()), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
    )
    algorithm = None if isinstance(ca.key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    signed = builder.sign(ca.key, algorithm)
    return signed.public_bytes(serialization.Encoding.PEM).decode() + ca.pem


def certificate_common_name(pem: str) -> str | None:
    """The common name of a certificate's subject (None: none, or more than one)."""
    try:
        return common_name(x509.load_pem_x509_certificate(pem.encode()).subject)
    except ValueError:
        return None


def common_name(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if len(values) == 1 else None


def _checked_request(csr_pem: str, identity: str) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr(csr_pem.strip().encode())
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise CsrRefused("not a PEM certificate signing request") from None
    if isinstance(key, rsa.RSAPublicKey):
        low, high = RSA_KEY_BITS
        if not low <= key.key_size <= high:
            raise CsrRefused(f"an RSA key has {low} to {high} bits, not {key.key_size}")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, EC_CURVES):
            raise CsrRefused(f"the curve {key.curve.name} is not P-256, P-384 or P-521")
    elif not isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        raise CsrRefused("the key is neither RSA, EC nor EdDSA")
    if not csr.is_signature_valid:
        raise CsrRefused("the request's signature does not match its key")
    name = common_name(csr.subject)
    if name != identity:
        raise CsrRefused(f"the common name is {name!r}, not the station's identity")
    return csr


def _key_usage(key: object) -> x509.KeyUsage:
    rsa_key = isinstance(key, rsa.RSAPublicKey)
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=rsa_key,
        data_encipherment=False,
        key_agreement=isinstance(key, ec.EllipticCurvePublicKey),
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )

"""A local EK certificate authority for a software TPM (:meth:`Vtpm.simulator`).

A real TPM's EK certificate comes from its vendor's CA; a fresh swtpm has none. For
demos and tests this module plays the vendor: it makes a throw-away CA and certifies
the simulator's EK (RSA 2048 or ECC P-256, whichever the wallet verified), so the
simulator can be enrolled against a root like a real TPM. Needs the ``cryptography``
package. Never use it with a real TPM: a certificate you issue yourself proves nothing
about the hardware.
"""

from __future__ import annotations

import datetime
from typing import Any

__all__ = ["SimulatedEkCa"]


def _ek_point(ek_public: bytes) -> tuple[int, int]:
    """The P-256 point of an ECC EK ``TPMT_PUBLIC`` (x and y are its last 68 bytes)."""
    if len(ek_public) < 68 or ek_public[:2] != b"\x00\x23":
        raise ValueError("the simulator's EK is not an ECC key")
    x = ek_public[-66:-34]
    y = ek_public[-32:]
    return int.from_bytes(x, "big"), int.from_bytes(y, "big")


def _ek_rsa(ek_public: bytes) -> tuple[int, int]:
    """The modulus and exponent of an RSA 2048 EK ``TPMT_PUBLIC``: the area ends with
    the exponent (u32, 0 meaning 65537) and the 256-byte modulus as a ``TPM2B``."""
    if len(ek_public) < 262 or ek_public[:2] != b"\x00\x01" or ek_public[-258:-256] != b"\x01\x00":
        raise ValueError("the simulator's EK is not an RSA 2048 key")
    exponent = int.from_bytes(ek_public[-262:-258], "big") or 65537
    return int.from_bytes(ek_public[-256:], "big"), exponent


class SimulatedEkCa:
    """A throw-away P-256 CA that certifies software TPMs' EKs."""

    def __init__(self, name: str = "flare-wallet simulated TPM vendor CA") -> None:
        try:
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.x509.oid import NameOID
        except ImportError as missing:
            raise ImportError(
                "the simulated TPM's EK certificate authority needs the cryptography "
                "package: pip install 'flare-wallet[attestation]'"
            ) from missing

        self._x509: Any = x509
        self._hashes: Any = hashes
        self._ec: Any = ec
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        self._certificate = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.root_pem: bytes = self._certificate.public_bytes(serialization.Encoding.PEM)
        """The CA's certificate, PEM: the trust root to enroll against."""

    def certify_ek(self, ek_public: bytes) -> bytes:
        """A DER EK certificate for the EK (RSA 2048 or ECC P-256) whose ``TPMT_PUBLIC``
        is ``ek_public``."""
        x509, ec = self._x509, self._ec
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key: Any
        if ek_public[:2] == b"\x00\x01":
            modulus, exponent = _ek_rsa(ek_public)
            key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        else:
            x, y = _ek_point(ek_public)
            key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "simulated TPM EK")])
            )
            .issuer_name(self._name)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .sign(self._key, self._hashes.SHA256())
        )
        der: bytes = certificate.public_bytes(serialization.Encoding.DER)
        return der

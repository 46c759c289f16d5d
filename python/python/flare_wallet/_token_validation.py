"""``AttestationTokenValidator``: checks a Confidential Space attestation token.

The token is a JWT signed with RS256, in one of two schemes:

- OIDC: the key is in the JWKS that the issuer's
  ``/.well-known/openid-configuration`` names (or a JWKS given to the validator);
- PKI: the header's ``x5c`` chain (leaf first) must lead to a pinned root certificate,
  and the leaf's key signs the token.

Then the claims: ``iss`` and ``aud`` (always checked), ``exp``/``nbf`` with a leeway,
``eat_nonce`` holding every expected nonce, ``swname`` ``CONFIDENTIAL_SPACE``, ``dbgstat``
``disabled-since-boot`` unless debug images are allowed, and, when pinned, the
container's ``image_digest``. PyJWT and cryptography do the cryptography
(``pip install 'flare-wallet[attestation]'``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import ipaddress
import json
import logging
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, Final

from flare_wallet.exceptions import TokenValidationError

__all__ = [
    "CONFIDENTIAL_SPACE_ISSUER",
    "CONFIDENTIAL_SPACE_ROOT_SHA1",
    "AttestationTokenValidator",
]

logger = logging.getLogger("flare_wallet.token_validation")

CONFIDENTIAL_SPACE_ISSUER: Final = "https://confidentialcomputing.googleapis.com"
OIDC_CONFIGURATION_PATH: Final = "/.well-known/openid-configuration"
PKI_ROOT_PATH: Final = "/.well-known/confidential_space_root.crt"
# SHA-1 fingerprint of the Confidential Space root certificate, as its issuer publishes
# it; a root fetched from the issuer is used only when it has this fingerprint.
CONFIDENTIAL_SPACE_ROOT_SHA1: Final = "B9:51:20:74:2C:24:E3:AA:34:04:2E:1C:3B:A3:AA:D2:8B:21:23:21"
ALGORITHM: Final = "RS256"
PRODUCTION_SWNAME: Final = "CONFIDENTIAL_SPACE"
PRODUCTION_DBGSTAT: Final = "disabled-since-boot"
MAX_DOCUMENT_BYTES: Final = 1024 * 1024
MAX_CHAIN_LENGTH: Final = 5


def _jwt_module() -> Any:
    try:
        import jwt
    except ImportError:
        raise TokenValidationError(
            "token validation needs PyJWT and cryptography: pip install 'flare-wallet[attestation]'"
        ) from None
    return jwt


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fingerprint_sha1(der: bytes) -> str:
    digest = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


class AttestationTokenValidator:
    """Validates Confidential Space attestation tokens (OIDC and PKI schemes).

    ``audience`` is required: a token made for another relying party is refused.
    ``issuer`` is the expected ``iss`` and, for OIDC without ``jwks``, where the JWKS is
    discovered (fetched over https only, or http on a loopback host for local tests).
    ``jwks`` pins the OIDC keys instead of fetching them. ``pki_root_pem`` pins the PKI
    root certificate;
    without it the issuer's published root is fetched and accepted only with the
    pinned SHA-1 fingerprint ``pki_root_sha1``. ``expected_nonces`` must all be in
    ``eat_nonce`` (also per call). ``allow_debug`` accepts ``dbgstat`` values other than
    ``disabled-since-boot``; ``image_digest`` pins the container image; ``leeway`` is the
    clock skew allowed on ``exp``/``nbf``/``iat`` in seconds; ``swname`` is the required
    software name. A fetched JWKS is kept ``jwks_cache_seconds`` and fetched again at
    once for a key id it lacks (the issuer rotates its keys).
    """

    def __init__(
        self,
        audience: str,
        *,
        issuer: str = CONFIDENTIAL_SPACE_ISSUER,
        jwks: Mapping[str, Any] | None = None,
        pki_root_pem: bytes | str | None = None,
        pki_root_sha1: str = CONFIDENTIAL_SPACE_ROOT_SHA1,
        expected_nonces: Sequence[str] | None = None,
        allow_debug: bool = False,
        image_digest: str | None = None,
        leeway: float = 30.0,
        swname: str = PRODUCTION_SWNAME,
        timeout: float = 10.0,
        jwks_cache_seconds: float = 300.0,
    ):
        if not isinstance(audience, str) or not audience:
            raise TokenValidationError("an audience is required: the token's aud is checked")
        self.audience = audience
        self.issuer = issuer.rstrip("/")
        self._jwks = dict(jwks) if jwks is not None else None
        self._pki_root_pem = (
            pki_root_pem.encode() if isinstance(pki_root_pem, str) else pki_root_pem
        )
        self.pki_root_sha1 = pki_root_sha1.upper()
        self.expected_nonces = list(expected_nonces) if expected_nonces is not None else []
        self.allow_debug = allow_debug
        self.image_digest = image_digest
        self.leeway = float(leeway)
        self.swname = swname
        self.timeout = float(timeout)
        self.jwks_cache_seconds = float(jwks_cache_seconds)
        self._fetched_jwks: dict[str, Any] | None = None
        self._fetched_until = 0.0

    # ------------------------------------------------------------ fetching

    def _fetch(self, url: str) -> bytes:
        parsed = urllib.parse.urlsplit(url)
        if not (
            parsed.scheme == "https" or (parsed.scheme == "http" and _is_loopback(parsed.hostname))
        ):
            raise TokenValidationError(f"refusing to fetch {url!r}: https only")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310 (scheme checked above)
                body: bytes = response.read(MAX_DOCUMENT_BYTES + 1)
        except OSError as error:
            raise TokenValidationError(f"could not fetch {url}: {error}") from error
        if len(body) > MAX_DOCUMENT_BYTES:
            raise TokenValidationError(f"{url} is over {MAX_DOCUMENT_BYTES} bytes")
        return body

    def _fetch_json(self, url: str) -> dict[str, Any]:
        try:
            document = json.loads(self._fetch(url))
        except ValueError:
            raise TokenValidationError(f"{url} is not JSON") from None
        if not isinstance(document, dict):
            raise TokenValidationError(f"{url} is not a JSON object")
        return document

    def _oidc_jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        if self._jwks is not None:
            return self._jwks
        now = time.monotonic()
        if not refresh and self._fetched_jwks is not None and now < self._fetched_until:
            return self._fetched_jwks
        configuration = self._fetch_json(self.issuer + OIDC_CONFIGURATION_PATH)
        if configuration.get("issuer", "").rstrip("/") != self.issuer:
            raise TokenValidationError(
                "the OpenID configuration names another issuer than the expected one"
            )
        jwks_uri = configuration.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise TokenValidationError("the OpenID configuration has no jwks_uri")
        jwks = self._fetch_json(jwks_uri)
        self._fetched_jwks, self._fetched_until = jwks, now + self.jwks_cache_seconds
        return jwks

    def _pki_root(self) -> Any:
        from cryptography import x509

        if self._pki_root_pem is not None:
            pem = self._pki_root_pem
        else:
            pem = self._fetch(self.issuer + PKI_ROOT_PATH)
        try:
            root = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise TokenValidationError("the PKI root is not a PEM certificate") from None
        if self._pki_root_pem is None:
            from cryptography.hazmat.primitives.serialization import Encoding

            fingerprint = _fingerprint_sha1(root.public_bytes(Encoding.DER))
            if fingerprint != self.pki_root_sha1:
                raise TokenValidationError(
                    f"the issuer's root certificate has fingerprint {fingerprint}, not the "
                    f"pinned {self.pki_root_sha1}"
                )
        return root

    # ------------------------------------------------------------ keys

    def _oidc_key(self, header: Mapping[str, Any]) -> Any:
        jwt = _jwt_module()
        kid = header.get("kid")
        jwks = self._oidc_jwks()
        if not any(isinstance(e, dict) and e.get("kid") == kid for e in jwks.get("keys", [])):
            # The issuer may have rotated its keys since the cached copy was fetched.
            jwks = self._oidc_jwks(refresh=True)
        keys = jwks.get("keys")
        if not isinstance(keys, list):
            raise TokenValidationError("the JWKS has no keys")
        for entry in keys:
            if isinstance(entry, dict) and entry.get("kid") == kid:
                if entry.get("kty") != "RSA":
                    raise TokenValidationError(f"JWKS key {kid!r} is not an RSA key")
                try:
                    return jwt.PyJWK(entry, algorithm=ALGORITHM).key
                except jwt.PyJWTError as error:
                    raise TokenValidationError(f"JWKS key {kid!r} is malformed: {error}") from None
        raise TokenValidationError(f"no key with the token's kid {kid!r} in the issuer's JWKS")

    def _pki_key(self, header: Mapping[str, Any]) -> Any:
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric import rsa

        encoded = header.get("x5c")
        if not isinstance(encoded, list) or not 1 <= len(encoded) <= MAX_CHAIN_LENGTH:
            raise TokenValidationError(f"the x5c header is not a chain of 1 to {MAX_CHAIN_LENGTH}")
        try:
            chain = [
                x509.load_der_x509_certificate(base64.b64decode(item, validate=True))
                for item in encoded
            ]
        except (TypeError, ValueError, binascii.Error):
            raise TokenValidationError("an x5c certificate is not base64 DER") from None
        root = self._pki_root()
        # The chain may end with the root itself; it is then checked against the pin.
        if chain[-1] == root:
            chain = chain[:-1]
        if not chain:
            raise TokenValidationError("the x5c chain holds no signing certificate")
        now = datetime.datetime.now(datetime.UTC)
        skew = datetime.timedelta(seconds=self.leeway)
        issuers = [*chain[1:], root]
        for position, (certificate, issuer) in enumerate(zip(chain, issuers, strict=True)):
            try:
                certificate.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):
                raise TokenValidationError(
                    f"x5c certificate {position} is not issued by the next one up to the "
                    "pinned root"
                ) from None
            if not (
                certificate.not_valid_before_utc - skew
                <= now
                <= certificate.not_valid_after_utc + skew
            ):
                raise TokenValidationError(f"x5c certificate {position} is outside its validity")
            try:
                is_ca = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
            except x509.ExtensionNotFound:
                is_ca = False
            if not is_ca:
                raise TokenValidationError(f"the issuer of x5c certificate {position} is not a CA")
        leaf_key = chain[0].public_key()
        if not isinstance(leaf_key, rsa.RSAPublicKey):
            raise TokenValidationError("the x5c leaf certificate's key is not RSA")
        return leaf_key

    # ------------------------------------------------------------ the token

    def validate_token(self, token: str, *, nonces: Sequence[str] | None = None) -> dict[str, Any]:
        """Verify ``token`` and return its claims; raises :class:`TokenValidationError`
        naming the first check that failed. ``nonces`` adds to ``expected_nonces``."""
        jwt = _jwt_module()
        if not isinstance(token, str):
            raise TokenValidationError("a token is JWT text")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenValidationError("the token is not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise TokenValidationError(
                f"the token's algorithm is {header.get('alg')!r}: only RS256 is accepted"
            )
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenValidationError("the token's claims are not JSON") from None
        # A token from another issuer is refused before any key is fetched for it.
        if unverified.get("iss") != self.issuer:
            raise TokenValidationError(f"the token's issuer is not {self.issuer!r}")
        key = self._pki_key(header) if "x5c" in header else self._oidc_key(header)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud"], "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise TokenValidationError("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenValidationError("the token is not valid yet (nbf or iat)") from None
        except jwt.InvalidAudienceError:
            raise TokenValidationError(f"the token's audience is not {self.audience!r}") from None
        except jwt.InvalidIssuerError:
            raise TokenValidationError(f"the token's issuer is not {self.issuer!r}") from None
        except jwt.InvalidSignatureError:
            raise TokenValidationError("the token's signature does not verify") from None
        except jwt.MissingRequiredClaimError as error:
            raise TokenValidationError(f"the token has no {error.claim!r} claim") from None
        except jwt.PyJWTError as error:
            raise TokenValidationError(f"the token did not validate: {error}") from None
        self._check_claims(claims, [*self.expected_nonces, *(nonces or [])])
        return claims

    def _check_claims(self, claims: Mapping[str, Any], nonces: Sequence[str]) -> None:
        carried = claims.get("eat_nonce", [])
        carried_list = [carried] if isinstance(carried, str) else carried
        if not isinstance(carried_list, list):
            raise TokenValidationError("the token's eat_nonce is not a string or a list")
        missing = [nonce for nonce in nonces if nonce not in carried_list]
        if missing:
            raise TokenValidationError(
                f"the token's eat_nonce lacks {len(missing)} of the expected nonces"
            )
        if claims.get("swname") != self.swname:
            raise TokenValidationError(
                f"the token's swname is {claims.get('swname')!r}, not {self.swname!r}"
            )
        if not self.allow_debug and claims.get("dbgstat") != PRODUCTION_DBGSTAT:
            raise TokenValidationError(
                f"the token's dbgstat is {claims.get('dbgstat')!r}: the image may be debugged "
                "(pass allow_debug=True to accept debug images)"
            )
        if self.image_digest is not None:
            submods = claims.get("submods")
            container = submods.get("container") if isinstance(submods, dict) else None
            digest = container.get("image_digest") if isinstance(container, dict) else None
            if digest != self.image_digest:
                raise TokenValidationError(
                    f"the token's image_digest is {digest!r}, not the pinned {self.image_digest!r}"
                )

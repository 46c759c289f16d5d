"""Confidential Space attestation tokens: the teeserver client behind ``Vtpm.get_token``.

Inside a Confidential Space VM the launcher serves ``POST /v1/token`` over the Unix
socket ``/run/container_launcher/teeserver.sock``: it returns a JWT (RS256) whose
``eat_nonce`` claim holds the nonces the caller sent, so a relying party that sent a
fresh challenge knows the token is new. :func:`wallet_nonces` binds the wallet's address
to such a challenge.

``simulate=True`` never contacts a teeserver: it signs a token with a key made for this
process, and every claim that could be mistaken for a real platform says it is simulated
(``dbgstat`` is ``enabled``, ``hwmodel`` names no real hardware, ``swname`` is not
``CONFIDENTIAL_SPACE``), so a validator configured for production refuses it.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any, Final

from flare_wallet.exceptions import VtpmAttestationError

__all__ = [
    "DEFAULT_AUDIENCE",
    "SIMULATED_HWMODEL",
    "SIMULATED_ISSUER",
    "TEESERVER_SOCKET",
    "ConfidentialSpaceTokens",
    "wallet_nonces",
]

logger = logging.getLogger("flare_wallet.confidential_space")

TEESERVER_SOCKET: Final = "/run/container_launcher/teeserver.sock"
DEFAULT_AUDIENCE: Final = "https://sts.google.com"
# The launcher's limits on each nonce, in bytes of its UTF-8 text.
NONCE_MIN_BYTES: Final = 10
NONCE_MAX_BYTES: Final = 74
# A request the launcher does not answer in this time fails instead of hanging an agent.
DEFAULT_TIMEOUT_SECONDS: Final = 10.0
# A token is a few kilobytes; more is not a token.
MAX_TOKEN_BYTES: Final = 64 * 1024

SIMULATED_ISSUER: Final = "urn:flare-wallet:simulated-confidential-space"
SIMULATED_HWMODEL: Final = "FLARE_WALLET_SIMULATION_NO_HARDWARE"
SIMULATED_SWNAME: Final = "FLARE_WALLET_SIMULATION"
SIMULATION_KID: Final = "flare-wallet-simulation"
SIMULATED_LIFETIME_SECONDS: Final = 3600
ADDRESS_NONCE_PREFIX: Final = "eth-address:"


def check_nonces(nonces: Sequence[str]) -> list[str]:
    """The nonces as a list, each checked to be text of 10 to 74 UTF-8 bytes."""
    if isinstance(nonces, str | bytes) or not isinstance(nonces, Sequence):
        raise VtpmAttestationError("nonces is a list of strings, each of 10 to 74 bytes")
    if not nonces:
        raise VtpmAttestationError("at least one nonce is needed (10 to 74 bytes each)")
    checked: list[str] = []
    for index, nonce in enumerate(nonces):
        if not isinstance(nonce, str):
            raise VtpmAttestationError(
                f"nonce {index} is {type(nonce).__name__}, not str (10 to 74 bytes of text)"
            )
        length = len(nonce.encode("utf-8"))
        if not NONCE_MIN_BYTES <= length <= NONCE_MAX_BYTES:
            raise VtpmAttestationError(
                f"nonce {index} is {length} bytes: each nonce must be between "
                f"{NONCE_MIN_BYTES} and {NONCE_MAX_BYTES} bytes (UTF-8)"
            )
        checked.append(nonce)
    return checked


def wallet_nonces(address: str, challenge: str) -> list[str]:
    """Nonces for :meth:`Vtpm.get_token` that bind the wallet ``address`` to a relying
    party's ``challenge``: the challenge itself and ``"eth-address:<checksummed
    address>"``. The token then carries both in ``eat_nonce``; the relying party checks
    them with ``AttestationTokenValidator(..., expected_nonces=wallet_nonces(...))``."""
    from eth_utils.address import to_checksum_address

    try:
        checksummed = to_checksum_address(address)
    except (TypeError, ValueError):
        raise VtpmAttestationError(f"{address!r} is not an Ethereum address") from None
    return check_nonces([challenge, ADDRESS_NONCE_PREFIX + checksummed])


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a Unix stream socket, with a timeout on connect and every read."""

    def __init__(self, socket_path: str, host: str, timeout: float):
        super().__init__(host, timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class _SimulationKey:
    """The RSA key that signs simulated tokens: made once per process, never written."""

    _lock = threading.Lock()
    _key: Any = None

    @classmethod
    def private_key(cls) -> Any:
        with cls._lock:
            if cls._key is None:
                from cryptography.hazmat.primitives.asymmetric import rsa

                cls._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return cls._key

    @classmethod
    def public_jwks(cls) -> dict[str, list[dict[str, Any]]]:
        import jwt

        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(cls.private_key().public_key()))
        jwk.update({"kid": SIMULATION_KID, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}


class ConfidentialSpaceTokens:
    """The teeserver client half of :class:`Vtpm` (upstream's ``Vtpm`` client).

    ``attestation_requested`` is the flag the chat route sets when a user asks for an
    attestation and clears after answering with a token.
    """

    attestation_requested: bool
    simulate: bool
    unix_socket_path: str | None
    url: str
    timeout: float

    def _init_token_client(
        self,
        *,
        url: str | None,
        unix_socket_path: str | None,
        simulate: bool,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if url is None:
            url = "http://localhost"
            if unix_socket_path is None:
                unix_socket_path = TEESERVER_SOCKET
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise VtpmAttestationError(
                f"url {url!r} is not an http(s) URL (the teeserver's base URL)"
            )
        self.url = url.rstrip("/")
        self.unix_socket_path = unix_socket_path
        self.simulate = bool(simulate)
        self.timeout = float(timeout)
        self.attestation_requested = False
        if self.simulate:
            logger.warning(
                "Vtpm(simulate=True): attestation tokens are SIMULATED (signed by a key "
                "made in this process, dbgstat=enabled, hwmodel=%s): they prove nothing "
                "about the platform and no production validator accepts them",
                SIMULATED_HWMODEL,
            )

    def _connection(self) -> http.client.HTTPConnection:
        parsed = urllib.parse.urlsplit(self.url)
        host = parsed.hostname or "localhost"
        if self.unix_socket_path is not None:
            return _UnixHTTPConnection(self.unix_socket_path, host, self.timeout)
        if parsed.scheme == "https":
            return http.client.HTTPSConnection(host, parsed.port, timeout=self.timeout)
        return http.client.HTTPConnection(host, parsed.port, timeout=self.timeout)

    def get_token(
        self,
        nonces: Sequence[str],
        audience: str = DEFAULT_AUDIENCE,
        token_type: str = "OIDC",  # noqa: S107 (a token kind, not a secret)
    ) -> str:
        """An attestation token (a JWT) from the Confidential Space launcher whose
        ``eat_nonce`` holds ``nonces`` (each 10 to 74 bytes) and whose ``aud`` is
        ``audience``. ``token_type`` is ``"OIDC"`` (verified with the issuer's JWKS),
        ``"PKI"`` (an ``x5c`` chain to the Confidential Space root) or another type the
        launcher issues.

        Raises :class:`VtpmAttestationError` for a nonce of the wrong length (checked
        before anything else), an unreachable or silent teeserver, or a refusal. The
        token is never logged."""
        checked = check_nonces(nonces)
        if not isinstance(audience, str) or not audience:
            raise VtpmAttestationError("audience is a non-empty string")
        # The launcher decides which token types it issues; only nonsense stops here.
        if not isinstance(token_type, str) or not token_type:
            raise VtpmAttestationError("token_type is a non-empty string such as 'OIDC' or 'PKI'")
        if self.simulate:
            return self._simulated_token(checked, audience, token_type)
        body = json.dumps({"audience": audience, "token_type": token_type, "nonces": checked})
        path = urllib.parse.urlsplit(self.url).path + "/v1/token"
        where = self.unix_socket_path or self.url
        connection = self._connection()
        try:
            connection.request(
                "POST", path, body=body.encode(), headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            payload = response.read(MAX_TOKEN_BYTES + 1)
        except (OSError, http.client.HTTPException) as error:
            reason = "timed out" if isinstance(error, TimeoutError) else str(error)
            raise VtpmAttestationError(
                f"the teeserver at {where} did not answer the token request: {reason}"
            ) from error
        finally:
            connection.close()
        if response.status != http.client.OK:
            raise VtpmAttestationError(
                f"the teeserver at {where} refused the token request: "
                f"{response.status} {response.reason}"
            )
        if len(payload) > MAX_TOKEN_BYTES:
            raise VtpmAttestationError(f"the teeserver's answer is over {MAX_TOKEN_BYTES} bytes")
        try:
            token = payload.decode("ascii").strip()
        except UnicodeDecodeError:
            raise VtpmAttestationError("the teeserver's answer is not a JWT") from None
        if token.count(".") != 2:
            raise VtpmAttestationError("the teeserver's answer is not a JWT")
        logger.debug("attestation token received (%s, %d bytes)", token_type, len(token))
        return token

    def _simulated_token(self, nonces: list[str], audience: str, token_type: str) -> str:
        import jwt

        now = int(time.time())
        claims = {
            "iss": SIMULATED_ISSUER,
            "sub": "flare-wallet-simulation",
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + SIMULATED_LIFETIME_SECONDS,
            "eat_nonce": nonces if len(nonces) > 1 else nonces[0],
            "simulated": True,
            "secboot": False,
            "dbgstat": "enabled",
            "hwmodel": SIMULATED_HWMODEL,
            "swname": SIMULATED_SWNAME,
            "swversion": ["0"],
            "submods": {"container": {"image_digest": "sha256:" + "0" * 64}},
        }
        logger.warning(
            "get_token(): returning a SIMULATED %s attestation token (not from a "
            "Confidential Space launcher)",
            token_type,
        )
        return jwt.encode(
            claims,
            _SimulationKey.private_key(),
            algorithm="RS256",
            headers={"kid": SIMULATION_KID},
        )

    @staticmethod
    def simulation_jwks() -> dict[str, list[dict[str, Any]]]:
        """The public JWKS of this process's simulation key, for checking simulated
        tokens in development (``AttestationTokenValidator(jwks=...)``)."""
        return _SimulationKey.public_jwks()

"""A test double of the Confidential Space launcher's teeserver and of its token issuer.

``TeeServerDouble`` serves ``POST /v1/token`` over a Unix socket as the launcher does,
and issues RS256 tokens under a CA made for the test: OIDC tokens signed by a key whose
JWKS (and OpenID configuration) it serves over HTTP on loopback, and PKI tokens whose
``x5c`` chain (leaf, intermediate, root) leads to the test root. Knobs make it issue the
bad tokens a validator must refuse: expired, a debug image, a tampered signature, a
chain to another root. It is not the real service: nothing here proves a platform.
"""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import socketserver
import threading
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

OIDC_KID = "teeserver-double-oidc"
IMAGE_DIGEST = "sha256:" + "ab" * 32


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: str,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


class TestCertificateAuthority:
    """A root, an intermediate and a token-signing leaf, all RSA."""

    def __init__(self, label: str):
        self.root_key = _rsa_key()
        self.root = _certificate(
            f"{label} root", self.root_key, f"{label} root", self.root_key, ca=True
        )
        intermediate_key = _rsa_key()
        self.intermediate = _certificate(
            f"{label} intermediate",
            intermediate_key,
            f"{label} root",
            self.root_key,
            ca=True,
        )
        self.leaf_key = _rsa_key()
        self.leaf = _certificate(
            f"{label} token signer",
            self.leaf_key,
            f"{label} intermediate",
            intermediate_key,
            ca=False,
        )

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    @property
    def x5c(self) -> list[str]:
        return [
            base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
            for cert in (self.leaf, self.intermediate, self.root)
        ]


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class TeeServerDouble:
    """The double: a teeserver on ``socket_path`` and an issuer at ``issuer_url``."""

    def __init__(self, directory: Path):
        self.socket_path = str(directory / "teeserver-double.sock")
        self.ca = TestCertificateAuthority("teeserver double")
        self.other_ca = TestCertificateAuthority("unrelated")
        self.oidc_key = _rsa_key()
        self.oidc_kid = OIDC_KID
        self.jwks_fetches = 0
        # Knobs for the next tokens.
        self.dbgstat = "disabled-since-boot"
        self.lifetime_seconds = 3600
        self.issued_at_offset = 0
        self.tamper_signature = False
        self.chain_to_other_root = False
        self.answer_delay_seconds = 0.0
        self.requests: list[dict[str, Any]] = []

        double = self

        class TokenHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length))
                double.requests.append(request)
                if double.answer_delay_seconds:
                    time.sleep(double.answer_delay_seconds)
                if self.path != "/v1/token":
                    self.send_error(404)
                    return
                token = double.issue(request["audience"], request["token_type"], request["nonces"])
                payload = token.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def address_string(self) -> str:
                return "unix"

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class IssuerHandler(TokenHandler):
            # Also answers POST /v1/token over TCP, for a client given only a url.

            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": double.issuer_url, "jwks_uri": double.issuer_url + "/jwks"}
                elif self.path == "/jwks":
                    double.jwks_fetches += 1
                    body = double.jwks()
                else:
                    self.send_error(404)
                    return
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._issuer = http.server.ThreadingHTTPServer(("127.0.0.1", 0), IssuerHandler)
        self.issuer_url = f"http://127.0.0.1:{self._issuer.server_address[1]}"
        self._teeserver = _UnixHTTPServer(self.socket_path, TokenHandler)
        self._threads = [
            threading.Thread(target=server.serve_forever, daemon=True)
            for server in (self._issuer, self._teeserver)
        ]
        for thread in self._threads:
            thread.start()

    def rotate_oidc_key(self) -> None:
        """A new OIDC signing key under a new key id, as the issuer rotates them."""
        self.oidc_key = _rsa_key()
        self.oidc_kid = f"{OIDC_KID}-{self.jwks_fetches}-rotated"

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.oidc_key.public_key()))
        jwk.update({"kid": self.oidc_kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def claims(self, audience: str, nonces: list[str]) -> dict[str, Any]:
        now = int(time.time()) + self.issued_at_offset
        return {
            "iss": self.issuer_url,
            "sub": "https://www.googleapis.com/compute/v1/projects/test/zones/z/instances/i",
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_seconds,
            "eat_nonce": nonces if len(nonces) > 1 else nonces[0],
            "secboot": True,
            "dbgstat": self.dbgstat,
            "hwmodel": "GCP_AMD_SEV",
            "swname": "CONFIDENTIAL_SPACE",
            "swversion": ["240900"],
            "submods": {"container": {"image_digest": IMAGE_DIGEST}},
        }

    def issue(self, audience: str, token_type: str, nonces: list[str]) -> str:
        claims = self.claims(audience, nonces)
        if token_type == "PKI":
            ca = self.other_ca if self.chain_to_other_root else self.ca
            token = jwt.encode(claims, ca.leaf_key, algorithm="RS256", headers={"x5c": ca.x5c})
        else:
            token = jwt.encode(
                claims, self.oidc_key, algorithm="RS256", headers={"kid": self.oidc_kid}
            )
        if self.tamper_signature:
            head, body, signature = token.split(".")
            raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
            raw[0] ^= 0x01
            token = ".".join([head, body, base64.urlsafe_b64encode(raw).rstrip(b"=").decode()])
        return token

    def close(self) -> None:
        for server in (self._issuer, self._teeserver):
            server.shutdown()
            server.server_close()
        Path(self.socket_path).unlink(missing_ok=True)

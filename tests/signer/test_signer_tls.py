"""HTTP across hosts: TLS with client certificates (rustls). A client with a certificate
from the configured CA is served; one without a certificate, or with one from another CA,
is refused in the handshake. Certificates are made here with openssl."""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Signer, free_port


def _openssl(*arguments: str) -> None:
    subprocess.run(["openssl", *arguments], check=True, capture_output=True)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip
    return key, cert


def _leaf(directory: Path, name: str, ca: tuple[Path, Path], extension: str) -> tuple[Path, Path]:
    key, csr, cert = (directory / f"{name}.{s}" for s in ("key", "csr", "pem"))
    ext = directory / f"{name}.ext"
    ext.write_text(extension)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[1]), "-CAkey", str(ca[0]),
             "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext))  # fmt: skip
    return key, cert


def _post(port: int, context: ssl.SSLContext) -> dict[str, object]:
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_accounts", "params": []})
    connection.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
    reply: dict[str, object] = json.loads(connection.getresponse().read())
    connection.close()
    return reply


def test_tls_with_client_certificates(start_signer: Callable[..., Signer], tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificates")
    ca = _ca(tmp_path, "clients-ca")
    server_ca = _ca(tmp_path, "server-ca")
    server = _leaf(
        tmp_path, "server", server_ca, "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
    )
    client = _leaf(tmp_path, "agent", ca, "extendedKeyUsage=clientAuth\n")
    stranger_ca = _ca(tmp_path, "stranger-ca")
    stranger = _leaf(tmp_path, "stranger", stranger_ca, "extendedKeyUsage=clientAuth\n")

    port = free_port()
    signer = start_signer(
        extra=["--http-listen", f"127.0.0.1:{port}", "--tls-cert", str(server[1]),
               "--tls-key", str(server[0]), "--tls-client-ca", str(ca[1])],
    )  # fmt: skip
    (address,) = signer.call("eth_accounts", [])

    def context(certificate: tuple[Path, Path] | None) -> ssl.SSLContext:
        made = ssl.create_default_context(cafile=str(server_ca[1]))
        if certificate is not None:
            made.load_cert_chain(str(certificate[1]), str(certificate[0]))
        return made

    assert _post(port, context(client))["result"] == [address]
    for refused in (None, stranger):
        with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
            _post(port, context(refused))
    # The service is still there for the client it trusts.
    assert _post(port, context(client))["result"] == [address]

"""A platform double for GCE Shielded VM provisioning, shared by the Python and C
suites: Google's provisioning cannot run here, so the test plays the platform on a
real swtpm (the NV indices are go-tpm-tools' `client/handles.go`)."""

from __future__ import annotations

import socket
import struct
from typing import Any


class GcePlatformDouble:
    """Provisions a simulator's swtpm as GCE provisions a Shielded VM vTPM (Google's
    provisioning cannot run here): an ECC AK template at NV 0x01c10003 and, at
    0x01c10002, a certificate from a test CA over the key that template yields. Talks
    raw TPM 2.0 commands to the swtpm socket while the wallet is between operations."""

    TEMPLATE_INDEX = 0x01C10003
    CERT_INDEX = 0x01C10002
    # PPWRITE | PPREAD | OWNERREAD | AUTHREAD | NO_DA | PLATFORMCREATE.
    ATTRIBUTES = 0x42070001

    def __init__(self, tcti: str, ca: Any) -> None:
        """``tcti`` is ``swtpm:path=<socket>`` or the socket's path; ``ca`` stands in
        for Google's AK CA: anything with ``certify_ek(public_area) -> DER`` and
        ``root_pem`` (``flare_wallet._simulated_ca.SimulatedEkCa``)."""
        self._path = tcti.removeprefix("swtpm:path=")
        self.ca = ca

    @staticmethod
    def template(unique: int) -> bytes:
        """GCE's ECC AK template: ECDSA P-256 SHA-256, restricted signing, noDA."""
        head = struct.pack(">HHIHHHHHH", 0x23, 0x0B, 0x00050472, 0, 0x10, 0x18, 0x0B, 3, 0x10)
        return head + (struct.pack(">H", 32) + bytes([unique]) * 32) * 2

    def _run(self, frame: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(10)
            connection.connect(self._path)
            connection.sendall(frame)
            response = connection.recv(10)
            size = struct.unpack(">I", response[2:6])[0]
            while len(response) < size:
                response += connection.recv(size - len(response))
        code = struct.unpack(">I", response[6:10])[0]
        assert code == 0, f"platform double: TPM command failed with rc {code:#x}"
        return response

    @staticmethod
    def _command(code: int, handles: list[int], parameters: bytes) -> bytes:
        password_session = struct.pack(">IIHBH", 9, 0x40000009, 0, 0, 0)
        body = b"".join(struct.pack(">I", h) for h in handles) + password_session + parameters
        return struct.pack(">HII", 0x8002, 10 + len(body), code) + body

    def key_of(self, template: bytes) -> bytes:
        """The TPMT_PUBLIC of the key ``template`` yields in the endorsement hierarchy."""
        parameters = (
            struct.pack(">HHH", 4, 0, 0)  # inSensitive: empty auth and data
            + struct.pack(">H", len(template))
            + template
            + struct.pack(">HI", 0, 0)  # outsideInfo, creationPCR
        )
        response = self._run(self._command(0x131, [0x4000000B], parameters))
        handle = struct.unpack(">I", response[10:14])[0]
        size = struct.unpack(">H", response[18:20])[0]
        public = response[20 : 20 + size]
        self._run(struct.pack(">HIII", 0x8001, 14, 0x165, handle))
        return public

    def write(self, index: int, data: bytes) -> None:
        public = struct.pack(">IHIHH", index, 0x0B, self.ATTRIBUTES, 0, len(data))
        define = struct.pack(">HH", 0, len(public)) + public
        self._run(self._command(0x12A, [0x4000000C], define))
        for offset in range(0, len(data), 512):
            chunk = data[offset : offset + 512]
            write = struct.pack(">H", len(chunk)) + chunk + struct.pack(">H", offset)
            self._run(self._command(0x137, [0x4000000C, index], write))

    def provision(self) -> bytes:
        """Writes GCE's template and an AK certificate over its key; returns the key's
        TPMT_PUBLIC."""
        template = self.template(0x5A)
        ak_public = self.key_of(template)
        self.write(self.TEMPLATE_INDEX, template)
        self.write(self.CERT_INDEX, self.ca.certify_ek(ak_public))
        return ak_public

"""Writes a certificate that must be refused into an EK certificate index, for
tests/c/test_wallet.c: on the swtpm whose TCTI is argv[1] (`swtpm:path=<socket>`),
a throw-away CA certifies the P-256 key of another template (GCE's AK template,
not an EK) and the certificate goes to the high-range H-1 index 0x01c00012
(whose template is RSA 2048); the CA's root is written to argv[2]/root.pem. Under
that root the certificate chains, but it does not certify the TPM's H-1 EK. The
swtpm must have no other client meanwhile."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/support"))

import simulated_ca  # noqa: E402

module = simulated_ca.load()

from gce_platform import GcePlatformDouble  # noqa: E402

H1_RSA_2048_INDEX = 0x01C00012

platform = GcePlatformDouble(sys.argv[1], module.SimulatedEkCa("foreign EK CA double"))
other_key = platform.key_of(GcePlatformDouble.template(0x33))
platform.write(H1_RSA_2048_INDEX, platform.ca.certify_ek(other_key))
(Path(sys.argv[2]) / "root.pem").write_bytes(platform.ca.root_pem)

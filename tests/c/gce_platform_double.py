"""Plays the GCE platform for tests/c/test_wallet.c: on the swtpm whose TCTI is
argv[1] (`swtpm:path=<socket>`), writes GCE's ECC AK template and an AK
certificate from a throw-away CA over the key it yields
(tests/support/gce_platform.py, the Python suite's double), and writes the CA's
root to argv[2]/root.pem. The swtpm must have no other client meanwhile."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/support"))

import simulated_ca  # noqa: E402

module = simulated_ca.load()

from gce_platform import GcePlatformDouble  # noqa: E402

platform = GcePlatformDouble(sys.argv[1], module.SimulatedEkCa("GCE AK CA double"))
platform.provision()
(Path(sys.argv[2]) / "root.pem").write_bytes(platform.ca.root_pem)

"""Plays a TPM vendor for tests/c/test_wallet.c: certifies the ECC EK whose
TPMT_PUBLIC is argv[1] (hex) with a throw-away local CA
(python/python/flare_wallet/_simulated_ca.py, loaded by path: the C suite needs only
the `cryptography` package, not the wheel) and writes argv[2]/ek.der and
argv[2]/root.pem."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/support"))

import simulated_ca  # noqa: E402

module = simulated_ca.load()
vendor = module.SimulatedEkCa()
out = Path(sys.argv[2])
(out / "ek.der").write_bytes(vendor.certify_ek(bytes.fromhex(sys.argv[1])))
(out / "root.pem").write_bytes(vendor.root_pem)

"""Plays a TPM vendor for tests/c/test_wallet.c: certifies the ECC EK whose
TPMT_PUBLIC is argv[1] (hex) with a throw-away local CA
(python/python/flare_wallet/_simulated_ca.py, loaded by path: the C suite needs only
the `cryptography` package, not the wheel) and writes argv[2]/ek.der and
argv[2]/root.pem."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location(
    "simulated_ca", ROOT / "python/python/flare_wallet/_simulated_ca.py"
)
assert spec is not None
assert spec.loader is not None
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
vendor = module.SimulatedEkCa()
out = Path(sys.argv[2])
(out / "ek.der").write_bytes(vendor.certify_ek(bytes.fromhex(sys.argv[1])))
(out / "root.pem").write_bytes(vendor.root_pem)

"""Shared fixtures of the Python suite.

Real parts only: the installed flare_wallet wheel, a private swtpm per test (Unix socket in
a temp dir, stopped by PID), one anvil per session on a free loopback port, and eth-account
as the oracle.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Signing goes through a TPM and a node: examples are not microseconds, and the suite
# must stay within a few minutes on two cores.
settings.register_profile(
    "flare-wallet",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "flare-wallet"))

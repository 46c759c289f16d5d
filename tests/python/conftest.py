"""Shared fixtures of the Python suite.

Real parts only: the installed flare_wallet wheel, a private swtpm per test (Unix socket in
a temp dir, stopped by PID), one anvil per session on a free loopback port (stopped by
PID), and eth-account as the oracle.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from flare_wallet import SecureWalletManager, Vtpm
from flare_wallet._simulated_ca import SimulatedEkCa
from hypothesis import HealthCheck, settings

# The suites' shared helpers (tests/support/*.py), importable from every test module.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

# Signing goes through a TPM and a node: examples are not microseconds, and the suite
# must stay within a few minutes on two cores. A wallet fixture is reused across the
# examples of one test on purpose: signing does not change it, and one swtpm per example
# would cost more than the signatures.
settings.register_profile(
    "flare-wallet",
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "flare-wallet"))

ROOT = Path(__file__).resolve().parents[2]
VECTORS = Path(__file__).resolve().parent / "vectors"
ANVIL_IN_TREE = ROOT / "tools/node/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
if "FLARE_WALLET_ANVIL" not in os.environ and ANVIL_IN_TREE.exists():
    os.environ["FLARE_WALLET_ANVIL"] = str(ANVIL_IN_TREE)

# A fixed key for the differential tests (eth-account's documentation key).
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

# Three owners (keys that only tests use) for accounts that owners administer, 2 of 3.
OWNERS: list[LocalAccount] = [Account.from_key(bytes([0x0F] * 31 + [index])) for index in (1, 2, 3)]
OWNER_ADDRESSES = [owner.address for owner in OWNERS]
THRESHOLD = 2
CAST_IN_TREE = ROOT / "tools/node/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"


def approve(request: dict[str, Any], *owners: LocalAccount) -> list[bytes]:
    """Each owner's EIP-712 signature of an admin request, made by eth-account."""
    return [
        bytes(Account.sign_typed_data(owner.key, full_message=request).signature)
        for owner in owners
    ]


def cast_executable() -> str:
    path = os.environ.get("FLARE_WALLET_CAST") or str(CAST_IN_TREE)
    assert os.access(path, os.X_OK), f"cast not found at {path}: run make deps-node"
    return path


def cast_sign(request: dict[str, Any], owner: LocalAccount, directory: Path) -> str:
    """An owner's signature of an admin request made by ``cast wallet sign --data
    --from-file``, as the hex text cast prints."""
    path = directory / f"request-{owner.address}.json"
    path.write_text(json.dumps(request))
    done = subprocess.run(
        [cast_executable(), "wallet", "sign", "--private-key", owner.key.to_0x_hex(),
         "--data", "--from-file", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def _no_ambient_tpm(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a TPM it did not start itself."""
    monkeypatch.delenv("FLARE_WALLET_TPM", raising=False)
    monkeypatch.delenv("FLARE_WALLET_STATE_DIR", raising=False)
    monkeypatch.delenv("FLARE_WALLET_TPM_ROOTS", raising=False)


def enroll_simulator(vtpm: Vtpm) -> bytes:
    """Enroll a simulator's attestation key against a local CA that certifies its EK
    (the simulator's stand-in for a TPM vendor); returns the enrollment record."""
    vendor = SimulatedEkCa()
    ek_public = vtpm.enrollment_request()["ek_public"]
    assert ek_public is not None
    return vtpm.enroll(vendor.root_pem, ek_certificate=vendor.certify_ek(ek_public))


def anchor(vtpm: Vtpm) -> dict[str, Any]:
    """verify_attestation's trust anchor for an enrolled simulator. Simulators are
    certified, so their accounts are on a verified TPM: unverified TPMs are not
    accepted."""
    assert vtpm.enrollment is not None
    return {
        "trust_roots": vtpm.trust_roots,
        "enrollment": vtpm.enrollment,
    }


@pytest.fixture
def vtpm() -> Iterator[Vtpm]:
    """A fresh private swtpm, its attestation key enrolled, and an empty state
    directory."""
    with Vtpm.simulator() as simulated:
        enroll_simulator(simulated)
        yield simulated


@pytest.fixture
def eth_account() -> LocalAccount:
    return Account.from_key(KEY)


@pytest.fixture
def imported(vtpm: Vtpm) -> Iterator[SecureWalletManager]:
    """A manager whose account is KEY, sealed by a fresh swtpm (cached key mode), with
    no owners."""
    with SecureWalletManager(None, vtpm) as manager:
        manager.import_private_key(KEY)
        yield manager


@pytest.fixture
def owned(vtpm: Vtpm) -> Iterator[SecureWalletManager]:
    """A manager whose account is KEY, administered by OWNERS, 2 of 3."""
    with SecureWalletManager(
        None, vtpm, owners=OWNER_ADDRESSES, threshold=THRESHOLD, key_lock="none"
    ) as manager:
        manager.import_private_key(KEY)
        yield manager


CERTIFIED_TEMPLATE_SCRIPT = ROOT / "tests/support/certified-swtpm-template.sh"


class CertifiedTemplate:
    """A TPM state with EK certificates from a local CA (made once per session by
    tests/support/certified-swtpm-template.sh) and that CA's roots."""

    def __init__(self, directory: Path):
        done = subprocess.run(
            [str(CERTIFIED_TEMPLATE_SCRIPT), str(directory)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        self.permall = directory / "state" / "tpm2-00.permall"
        self.roots = directory / "roots.pem"


class SwtpmProcess:
    """A swtpm on a Unix socket, for code that opens the TPM by TCTI itself: a copy of
    the certified template (an EK certificate from a local CA whose roots are
    ``roots``), or, with no template, a TPM without any EK certificate."""

    def __init__(self, directory: Path, template: CertifiedTemplate | None = None):
        self.directory = directory
        state = directory / "state"
        state.mkdir(parents=True)
        self.roots = template.roots if template is not None else None
        if template is not None:
            shutil.copyfile(template.permall, state / template.permall.name)
        self.socket = directory / "swtpm.sock"
        self.process = subprocess.Popen(
            ["swtpm", "socket", "--tpm2",
             "--server", f"type=unixio,path={self.socket}",
             "--ctrl", f"type=unixio,path={directory / 'swtpm.ctrl'}",
             "--tpmstate", f"dir={state}",
             "--flags", "not-need-init,startup-clear"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        # The socket file appears at bind(), a moment before swtpm listens: wait until a
        # connection is accepted, or a loaded machine sees "connection refused".
        while not self._accepts_connections():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("swtpm did not start")
            time.sleep(0.005)

    def _accepts_connections(self) -> bool:
        if not self.socket.exists():
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        return True

    @property
    def tcti(self) -> str:
        return f"swtpm:path={self.socket}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def certified_template(tmp_path_factory: pytest.TempPathFactory) -> CertifiedTemplate:
    if shutil.which("swtpm") is None:
        pytest.fail("swtpm is missing: apt-get install swtpm swtpm-tools (make deps does it)")
    return CertifiedTemplate(tmp_path_factory.mktemp("certified-swtpm"))


@pytest.fixture
def swtpm(
    tmp_path: Path, certified_template: CertifiedTemplate, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SwtpmProcess]:
    """A certified swtpm; its CA is the TPM trust roots ($FLARE_WALLET_TPM_ROOTS) of
    code that opens it by TCTI."""
    process = SwtpmProcess(tmp_path / "swtpm", certified_template)
    monkeypatch.setenv("FLARE_WALLET_TPM_ROOTS", str(certified_template.roots))
    yield process
    process.stop()


@pytest.fixture
def uncertified_swtpm(tmp_path: Path) -> Iterator[SwtpmProcess]:
    """A swtpm with no EK certificate: a TPM that cannot prove itself."""
    if shutil.which("swtpm") is None:
        pytest.fail("swtpm is missing: apt-get install swtpm swtpm-tools (make deps does it)")
    process = SwtpmProcess(tmp_path / "uncertified-swtpm")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def anvil() -> Iterator[Any]:
    from flare_wallet._demo import Anvil

    with Anvil() as node:
        yield node


@pytest.fixture(scope="session")
def web3(anvil: Any) -> Any:
    from web3 import Web3

    return Web3(Web3.HTTPProvider(anvil.url))


@pytest.fixture
def fund(web3: Any) -> Callable[[str, int], None]:
    """Send wei from anvil's first dev account and wait for it to be mined."""

    def send(address: str, wei: int) -> None:
        tx_hash = web3.eth.send_transaction(
            {"from": web3.eth.accounts[0], "to": address, "value": wei}
        )
        assert web3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1

    return send

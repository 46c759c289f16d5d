"""Fixtures of the signing-service suite: a real swtpm, a real anvil and the real
``flare-wallet-signer`` binary, each started here and stopped by PID.

The binary is ``$FLARE_WALLET_SIGNER`` (``make test-signer`` builds it), else the debug
build in ``target/``. Nothing here imports the ``flare_wallet`` wheel: the service is used
the way any Ethereum client uses it, over IPC and HTTP.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "tools/node/node_modules/@foundry-rs"
ANVIL = os.environ.get("FLARE_WALLET_ANVIL", str(NODE / "anvil-linux-amd64/bin/anvil"))
CAST = os.environ.get("FLARE_WALLET_CAST", str(NODE / "cast-linux-amd64/bin/cast"))
CHAIN_ID = 31337
# anvil's first dev account (its well-known test key), used only to fund.
DEV_ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

# The suites' shared helpers (tests/support/*.py), importable from every test module.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))


def signer_binary() -> str:
    path = os.environ.get("FLARE_WALLET_SIGNER") or str(ROOT / "target/debug/flare-wallet-signer")
    if not Path(path).exists():
        pytest.fail(f"{path} is missing: cargo build -p wallet-signer (make test-signer does it)")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def run_as(user: str | None) -> list[str]:
    """The command prefix that runs a program as ``user`` (none: as we are)."""
    if user is None:
        return []
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]


CERTIFIED_TEMPLATE_SCRIPT = ROOT / "tests/support/certified-swtpm-template.sh"


@functools.cache
def certified_template() -> Path:
    """A TPM state with EK certificates from a local CA, made once per session
    (tests/support/certified-swtpm-template.sh): ``state/tpm2-00.permall`` and the CA's
    ``roots.pem``, readable by every user (the service may run as another)."""
    directory = Path(tempfile.mkdtemp(prefix="flare-signer-certified-swtpm-"))
    directory.chmod(0o755)
    done = subprocess.run(
        [str(CERTIFIED_TEMPLATE_SCRIPT), str(directory)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (directory / "roots.pem").chmod(0o644)
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


class Swtpm:
    """A private swtpm on a Unix socket (optionally as another user), stopped by PID: a
    copy of the certified template, whose CA's roots are ``roots`` (or, not
    ``certified``, a TPM without any EK certificate)."""

    def __init__(self, directory: Path, user: str | None = None, certified: bool = True):
        self.directory = directory
        self.user = user
        self.state = directory / "tpm-state"
        self.state.mkdir(parents=True, exist_ok=True)
        template = certified_template()
        self.roots = template / "roots.pem"
        if certified:
            permall = self.state / "tpm2-00.permall"
            shutil.copyfile(template / "state" / "tpm2-00.permall", permall)
            if user is not None:
                shutil.chown(permall, user, user)
        self.socket = directory / "swtpm.sock"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def tcti(self) -> str:
        return f"swtpm:path={self.socket}"

    def start(self) -> None:
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [*run_as(self.user), "swtpm", "socket", "--tpm2",
             "--server", f"type=unixio,path={self.socket}",
             "--ctrl", f"type=unixio,path={self.directory / 'swtpm.ctrl'}",
             "--tpmstate", f"dir={self.state}",
             "--flags", "not-need-init,startup-clear"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.socket.exists, "swtpm's socket")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Anvil:
    """anvil on a free loopback port, stopped by PID."""

    def __init__(self) -> None:
        if not Path(ANVIL).exists() and shutil.which(ANVIL) is None:
            pytest.fail(f"anvil is missing ({ANVIL}): make deps-node")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [ANVIL, "--host", "127.0.0.1", "--port", str(self.port), "--chain-id", str(CHAIN_ID),
             "--hardfork", "prague"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.ready, "anvil")

    def call(self, method: str, params: list[Any]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        request = urllib.request.Request(  # noqa: S310 (loopback)
            self.url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
            reply = json.loads(answer.read())
        if "error" in reply:
            raise RuntimeError(f"anvil {method}: {reply['error']}")
        return reply["result"]

    def ready(self) -> bool:
        try:
            self.call("eth_chainId", [])
        except OSError:
            return False
        return True

    def fund(self, address: str, wei: int) -> None:
        tx_hash = self.call(
            "eth_sendTransaction", [{"from": DEV_ACCOUNT, "to": address, "value": hex(wei)}]
        )
        wait_for(lambda: self.call("eth_getTransactionReceipt", [tx_hash]) is not None, "funding")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Signer:
    """flare-wallet-signer, started with the given arguments, stopped by PID."""

    def __init__(
        self,
        directory: Path,
        tpm: Swtpm,
        *,
        accounts: list[Path] | None = None,
        policy: dict[str, Any] | None = None,
        upstream: str | None = None,
        extra: list[str] | None = None,
        user: str | None = None,
        ipc: Path | None = None,
    ):
        self.directory = directory
        self.ipc = ipc or directory / "signer.ipc"
        self.accounts = accounts or [directory / "account"]
        self.user = user
        self.log = directory / "signer.log"
        self.arguments = [
            signer_binary(), "--tpm", tpm.tcti, "--trust-roots", str(tpm.roots),
            "--ipc", str(self.ipc), "--create-missing",
            "--request-timeout", "2", "--drain-timeout", "10",
        ]  # fmt: skip
        for account in self.accounts:
            self.arguments += ["--account", str(account)]
        if policy is not None:
            policy_file = directory / "policy.json"
            policy_file.write_text(json.dumps(policy))
            policy_file.chmod(0o644)
            self.arguments += ["--policy", str(policy_file)]
        if policy is not None or "--owners" in (extra or []):
            # An account with a policy or owners names its key lock.
            self.arguments += ["--key-lock", "none"]
        if upstream is not None:
            self.arguments += ["--upstream", upstream]
        self.arguments += extra or []
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        # A socket left by a killed service: the new one binds afresh.
        self.ipc.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*run_as(self.user), *self.arguments],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        wait_for(self._ready, "the signer's IPC socket", timeout=60)

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the signer exited: {self.log.read_text()[-2000:]}")
        return self.ipc.exists()

    def client(self) -> IpcClient:
        return IpcClient(self.ipc)

    def call(self, method: str, params: list[Any]) -> Any:
        with self.client() as client:
            return client.result(method, params)

    def kill(self) -> None:
        """kill -9."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]):
        super().__init__(error.get("message"))
        self.code = error.get("code")
        self.data = error.get("data")
        self.error = error


class IpcClient:
    """A bare JSON-RPC client of the IPC socket (one request at a time)."""

    def __init__(self, path: Path, timeout: float = 30.0):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buffer = b""
        self.decoder = json.JSONDecoder()
        self.next_id = 1

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_value(self) -> Any:
        while True:
            text = self.buffer.decode("utf-8", "replace").lstrip()
            if text:
                try:
                    value, end = self.decoder.raw_decode(text)
                except ValueError:
                    pass
                else:
                    self.buffer = text[end:].encode()
                    return value
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the signer closed the connection")
            self.buffer += chunk

    def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        self.next_id += 1
        body = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        self.send_raw(json.dumps(body).encode())
        reply: dict[str, Any] = self.read_value()
        return reply

    def result(self, method: str, params: list[Any]) -> Any:
        reply = self.request(method, params)
        if "error" in reply:
            raise RpcError(reply["error"])
        return reply["result"]

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> IpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    node = Anvil()
    yield node
    node.stop()


@pytest.fixture
def swtpm(tmp_path: Path) -> Iterator[Swtpm]:
    if shutil.which("swtpm") is None:
        pytest.fail("swtpm is missing: apt-get install swtpm swtpm-tools (make deps does it)")
    tpm = Swtpm(tmp_path / "swtpm")
    yield tpm
    tpm.stop()


@pytest.fixture
def start_signer(tmp_path: Path, swtpm: Swtpm) -> Iterator[Callable[..., Signer]]:
    started: list[Signer] = []

    def start(**options: Any) -> Signer:
        directory = tmp_path / f"signer{len(started)}"
        directory.mkdir()
        signer = Signer(directory, swtpm, **options)
        started.append(signer)
        return signer

    yield start
    for signer in started:
        signer.kill()
